// Coarse-graining for EHW-C: the filtered DNS time derivative equals the coarse right-hand side
// minus the sub-grid term (the sign convention, exactly); the sub-grid term vanishes for fields
// whose products stay resolved on the coarse grid and not otherwise; decimation of a band-limited
// field samples it at every factor-th point.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hwBoxGrid } from '../helpers/grids.ts';
import { Coarsener, coarsenSpectrum } from '../../src/closure/coarsen.ts';
import { initialState } from '../../src/solvers/initial.ts';
import type { HwParams } from '../../src/solvers/model.ts';
import { hermitianColumnZero } from '../../src/spectral/grid.ts';
import { Transforms2d } from '../../src/spectral/transforms2d.ts';

const model: HwParams = { kind: 'hw', c1: 0.7, kappa: 1, nu: 1e-3, hyperOrder: 2, modified: true };
const fine = hwBoxGrid(64);
const norm = (fields: Float64Array[]) =>
  Math.sqrt(fields.reduce((s, f) => s + f.reduce((t, v) => t + v * v, 0), 0));

/** Noise fields keeping only |kx|, |ky| index <= limit. */
function bandLimited(limit: number, seed: number): Float64Array[] {
  const fields = initialState(model, fine, 'noise', 1, seed);
  for (const f of fields)
    for (let row = 0; row < fine.ny; row++)
      for (let col = 0; col < fine.ncols; col++)
        if (Math.abs(fine.rowIndex(row)) > limit || col > limit)
          f[2 * (row * fine.ncols + col)] = f[2 * (row * fine.ncols + col) + 1] = 0;
  return fields;
}

describe('EHW-C coarse-graining', () => {
  const coarsener = new Coarsener(model, fine, 4);

  it('∂t f̄ = RHS_coarse(f̄) − τ_f holds exactly for a turbulent-like state', () => {
    const state = initialState(model, fine, 'noise', 1, 3);
    const { fields, subgrid, dt } = coarsener.sample(state);
    const rhs = coarsener.coarseRhs(fields);
    const residual = rhs.map((r, f) => {
      const expected = r.map((v, i) => v - subgrid[f]![i]!);
      hermitianColumnZero(expected, coarsener.coarse);
      return expected.map((v, i) => v - dt[f]![i]!);
    });
    assert.ok(norm(residual) < 1e-12 * norm(dt), `residual ${norm(residual)} of ${norm(dt)}`);
    assert.ok(
      norm(subgrid) > 1e-3 * norm(dt),
      `sub-grid term unexpectedly small: ${norm(subgrid)}`,
    );
  });

  it('τ vanishes when every product stays resolved on the coarse grid', () => {
    // coarse 16²: kept |k index| <= 5; fields limited to 2 give products up to 4
    const { subgrid, fields } = coarsener.sample(bandLimited(2, 5));
    assert.ok(norm(fields) > 0);
    assert.ok(norm(subgrid) < 1e-12 * norm(fields), `τ = ${norm(subgrid)}`);
  });

  it('decimation samples a band-limited field at every factor-th point', () => {
    const [n] = bandLimited(5, 7);
    const full = new Float64Array(fine.realSize);
    new Transforms2d(fine).inverse(n!, full);
    const coarse = new Float64Array(coarsener.coarse.realSize);
    new Transforms2d(coarsener.coarse).inverse(coarsenSpectrum(n!, fine, coarsener.coarse), coarse);
    const cn = coarsener.coarse.nx;
    coarse.forEach((v, k) => {
      const expected = full[4 * Math.floor(k / cn) * fine.nx + 4 * (k % cn)]!;
      assert.ok(Math.abs(v - expected) < 1e-12, `point ${k}: ${v} vs ${expected}`);
    });
  });
});
