/**
 * Gaussian random fields (the FOT-CFM noise measure and the FNO initial vorticity): the sampled
 * coefficients have the prescribed variance sigma²(|k|² + tau²)^(-alpha) mode by mode, at every
 * resolution (so one measure serves every grid), and the mean is zero.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleGrf } from '../../src/spectral/grf.ts';
import { SpectralGrid } from '../../src/spectral/grid.ts';

function shellRatios(n: number, samples: number, maxShell: number): number[] {
  const grid = new SpectralGrid({ nx: n, ny: n, lx: 1, ly: 1, dealias: 'none' });
  const params = { sigma: 1.5, tau: 3, alpha: 2 };
  const power = new Float64Array(grid.spectralSize);
  for (let s = 0; s < samples; s++) {
    const spec = sampleGrf(grid, params, 1000 * n + s);
    for (let i = 0; i < grid.spectralSize; i++)
      power[i]! += (spec[2 * i]! ** 2 + spec[2 * i + 1]! ** 2) / samples;
  }
  const measured = new Float64Array(maxShell + 1);
  const expected = new Float64Array(maxShell + 1);
  for (let i = 0; i < grid.spectralSize; i++) {
    const k2 = grid.k2[i]!;
    const shell = Math.round(Math.sqrt(k2) / (2 * Math.PI));
    if (k2 === 0 || shell > maxShell || grid.weight[i] === 0) continue;
    measured[shell]! += power[i]!;
    expected[shell]! += params.sigma ** 2 * (k2 + params.tau ** 2) ** -params.alpha;
  }
  return Array.from({ length: maxShell }, (_, s) => measured[s + 1]! / expected[s + 1]!);
}

describe('Gaussian random fields', () => {
  it('have the prescribed spectrum, shell by shell, at 32² and at 64²', () => {
    for (const n of [32, 64]) {
      const ratios = shellRatios(n, 48, 8);
      for (const [s, r] of ratios.entries())
        assert.ok(Math.abs(r - 1) < 0.25, `n ${n} shell ${s + 1}: measured/prescribed ${r}`);
      const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
      assert.ok(Math.abs(mean - 1) < 0.06, `n ${n}: mean ratio ${mean}`);
    }
  });

  it('has no mean (k = 0 is zero)', () => {
    const grid = new SpectralGrid({ nx: 16, ny: 16, lx: 1, ly: 1, dealias: 'none' });
    const spec = sampleGrf(grid, { sigma: 1, tau: 1, alpha: 2 }, 3);
    assert.equal(spec[0], 0);
    assert.equal(spec[1], 0);
  });
});
