// The float64 FFTs against a direct DFT, and the 2-D transforms' round trip and Parseval scaling.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ComplexFft, RealFft } from '../../src/spectral/fft.ts';
import { SpectralGrid } from '../../src/spectral/grid.ts';
import { whiteNoise } from '../../src/spectral/random.ts';
import { Transforms2d } from '../../src/spectral/transforms2d.ts';
import { assertAllclose } from '../helpers/allclose.ts';

function dft(re: Float64Array, im: Float64Array, sign: number): Float64Array {
  const n = re.length;
  const out = new Float64Array(2 * n);
  for (let k = 0; k < n; k++)
    for (let j = 0; j < n; j++) {
      const a = (sign * 2 * Math.PI * j * k) / n;
      out[2 * k] = out[2 * k]! + re[j]! * Math.cos(a) - im[j]! * Math.sin(a);
      out[2 * k + 1] = out[2 * k + 1]! + re[j]! * Math.sin(a) + im[j]! * Math.cos(a);
    }
  return out;
}

describe('float64 FFTs', () => {
  for (const n of [8, 64, 256]) {
    it(`complex FFT of length ${n} matches the DFT both ways`, () => {
      const re = whiteNoise(n, 1);
      const im = whiteNoise(n, 2);
      const data = new Float64Array(2 * n);
      re.forEach((v, j) => ((data[2 * j] = v), (data[2 * j + 1] = im[j]!)));
      const fft = new ComplexFft(n);
      const forward = data.slice();
      fft.transform(forward, 0, false);
      assertAllclose(forward, dft(re, im, -1), { rtol: 0, atol: 1e-10 * n });
      const inverse = data.slice();
      fft.transform(inverse, 0, true);
      assertAllclose(inverse, dft(re, im, 1), { rtol: 0, atol: 1e-10 * n });
    });

    it(`real FFT of length ${n} matches the DFT and inverts`, () => {
      const x = whiteNoise(n, 3);
      const rfft = new RealFft(n);
      const spec = new Float64Array(n + 2);
      rfft.forward(x, 0, spec, 0, n / 2 + 1);
      assertAllclose(spec, dft(x, new Float64Array(n), -1).subarray(0, n + 2), {
        rtol: 0,
        atol: 1e-10 * n,
      });
      const back = new Float64Array(n);
      rfft.inverse(spec, 0, n / 2 + 1, back, 0);
      assertAllclose(
        back,
        x.map((v) => v * n),
        { rtol: 0, atol: 1e-10 * n },
      );
    });
  }

  it('rejects lengths that are not powers of two', () => {
    assert.throws(() => new ComplexFft(12), /power of two/);
  });

  it('2-D transforms round-trip a band-limited field and satisfy Parseval', () => {
    const grid = new SpectralGrid({ nx: 32, ny: 16, lx: 3, ly: 2, dealias: 'none' });
    const t = new Transforms2d(grid);
    const field = whiteNoise(grid.realSize, 4);
    const spec = t.newSpectral();
    t.forward(field, spec);
    const back = t.newReal();
    t.inverse(spec, back);
    // Without de-aliasing only the Nyquist row/column's odd parts are lost; compare energies.
    let parseval = 0;
    for (let i = 0; i < grid.spectralSize; i++)
      parseval += grid.weight[i]! * (spec[2 * i]! ** 2 + spec[2 * i + 1]! ** 2);
    const mean = back.reduce((s, v) => s + v * v, 0) / back.length;
    assert.ok(Math.abs(parseval - mean) < 1e-12 * mean + 1e-14, `${parseval} vs ${mean}`);
    const again = t.newSpectral();
    t.forward(back, again);
    assertAllclose(again, spec, { rtol: 0, atol: 1e-13 });
  });
});
