// The WGSL FFT (fft_shared) on its own against the float64 FFT, at every length from 2 to 2048
// (every pass plan of fftPlan: radices 2 to 8), forward and inverse; and the plan itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { whiteNoise } from '../../src/spectral/random.ts';
import { ComplexFft } from '../../src/spectral/fft.ts';
import { fftPlan, gpuFftBatch, smallestRadix } from '../../src/solvers/gpuFft.ts';
import { webGpuOrSkip } from '../helpers/devices.ts';

const { gpu, skip } = await webGpuOrSkip();

describe('fftPlan', () => {
  it('takes the fewest passes of radix <= 8, spread evenly, larger radices first', () => {
    assert.deepEqual(fftPlan(11), [8, 8, 8, 4]);
    assert.deepEqual(fftPlan(10), [8, 8, 4, 4]);
    assert.deepEqual(fftPlan(9), [8, 8, 8]);
    assert.deepEqual(fftPlan(8), [8, 8, 4]);
    assert.deepEqual(fftPlan(4), [4, 4]);
    assert.deepEqual(fftPlan(1), [2]);
    for (let bits = 1; bits <= 12; bits++) {
      const plan = fftPlan(bits);
      assert.equal(
        plan.reduce((a, b) => a * b, 1),
        2 ** bits,
      );
      assert.equal(plan.length, Math.ceil(bits / 3));
      assert.ok(Math.max(...plan) <= 8 && Math.max(...plan) <= 2 * Math.min(...plan));
    }
    assert.equal(smallestRadix(11), 4);
  });
});

describe('WGSL Stockham FFT vs the float64 FFT', { skip }, () => {
  for (let bits = 1; bits <= 11; bits++) {
    const n = 2 ** bits;
    it(`n = ${n}, forward and inverse`, async () => {
      const sequences = 3;
      const input = whiteNoise(2 * n * sequences, bits);
      const fft = new ComplexFft(n);
      for (const inverse of [false, true]) {
        const expected = input.slice();
        for (let s = 0; s < sequences; s++) {
          fft.transform(expected, n * s, inverse);
        }
        const actual = await gpuFftBatch(gpu!.gpu, Float32Array.from(input), n, inverse);
        let num = 0;
        let den = 0;
        expected.forEach((v, i) => ((num += (actual[i]! - v) ** 2), (den += v * v)));
        const error = Math.sqrt(num / den);
        assert.ok(error < 2e-6 * Math.max(1, bits / 4), `relative L2 error ${error}`);
      }
    });
  }
});
