/**
 * FOT-CFM's building blocks on the CPU: the FNO's spectral convolution gives the same function on
 * 16² and 32² grids for a band-limited input (resolution invariance of the weights), too small a
 * grid is refused, the noise measure has unit pointwise variance, and a few jitted flow-matching
 * steps lower the loss.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as jax from '@jax-js/jax';
import {
  film,
  fnoForward,
  fnoInitialValues,
  fnoParams,
  type FnoShape,
  spectralConv,
  spectralConvFft,
} from '../../src/flow/fno.ts';
import { createFlowTrainer } from '../../src/flow/flowTrainer.ts';
import { sampleNoise } from '../../src/flow/noise.ts';
import { uniformGenerator } from '../../src/spectral/random.ts';

const np = jax.numpy;

/** A band-limited 4-channel field (wavenumbers below 4) on an n x n grid, batch 2. */
function bandLimited(n: number): jax.Array {
  const out = new Float32Array(2 * n * n * 4);
  for (let b = 0; b < 2; b++)
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++)
        for (let c = 0; c < 4; c++) {
          const [X, Y] = [x / n, y / n];
          out[((b * n + y) * n + x) * 4 + c] =
            Math.sin(2 * Math.PI * (X + 0.1 * c)) +
            0.5 * Math.cos(2 * Math.PI * (2 * Y - 3 * X + b)) +
            0.2 * c;
        }
  return np.array(out).reshape([2, n, n, 4]);
}

describe('FNO and flow matching', () => {
  before(async () => {
    await jax.init('wasm');
    jax.defaultDevice('wasm');
  });

  it('spectral convolution: the same function on 16² and 32² grids', async () => {
    const shape: FnoShape = { channels: 1, width: 4, modes: 4, layers: 1, projection: 4 };
    const p = fnoParams(shape, fnoInitialValues(shape, 1));
    const coarse = (await spectralConv(p, 0, bandLimited(16), shape).data()) as Float32Array;
    const fine = (await spectralConv(p, 0, bandLimited(32), shape).data()) as Float32Array;
    let worst = 0;
    let scale = 0;
    for (let b = 0; b < 2; b++)
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 16; x++)
          for (let c = 0; c < 4; c++) {
            const u = coarse[((b * 16 + y) * 16 + x) * 4 + c]!;
            const v = fine[((b * 32 + 2 * y) * 32 + 2 * x) * 4 + c]!;
            worst = Math.max(worst, Math.abs(u - v));
            scale = Math.max(scale, Math.abs(u));
          }
    assert.ok(scale > 0.1 && worst < 1e-5 * scale, `difference ${worst} of ${scale}`);
    assert.throws(() => spectralConv(p, 0, bandLimited(4), shape), /too small for 4 Fourier modes/);
    // The DFT-matrix path equals jax-js's FFT path on any input (here not band-limited).
    const x = jax.random.normal(jax.random.key(2), [2, 16, 16, 4]);
    const viaFft = (await spectralConvFft(p, 0, x.ref, shape).data()) as Float32Array;
    const viaDft = (await spectralConv(p, 0, x, shape).data()) as Float32Array;
    let gap = 0;
    let size = 0;
    viaFft.forEach((v, i) => {
      gap = Math.max(gap, Math.abs(v - viaDft[i]!));
      size = Math.max(size, Math.abs(v));
    });
    assert.ok(size > 0.01 && gap < 1e-5 * Math.max(1, size), `DFT vs FFT ${gap} of ${size}`);
    jax.tree.dispose(p);
  });

  it('FiLM time modulation: a new model equals the plain FNO; the modulation is x(1+γ)+β', async () => {
    const plain: FnoShape = { channels: 1, width: 4, modes: 4, layers: 2, projection: 8 };
    const filmed: FnoShape = { ...plain, timeFeatures: 4 };
    const values = fnoInitialValues(filmed, 5);
    assert.equal(values.get('time.w')!.length, 4 * 4);
    assert.ok(values.get('layer1.film.w')!.every((v) => v === 0));
    const x = jax.random.normal(jax.random.key(3), [2, 16, 16, 1]);
    const t = np.array(new Float32Array([0.25, 0.8]));
    const a = fnoParams(plain, values);
    const b = fnoParams(filmed, values);
    const va = (await fnoForward(a, x.ref, t.ref, plain).data()) as Float32Array;
    const vb = (await fnoForward(b, x, t, filmed).data()) as Float32Array;
    assert.deepEqual(vb, va);
    // A bias-only FiLM layer: γ = (0.5, -1, 2, 0) and β = (1, 0, 0, -3) for every t.
    b['layer0.film.b']!.dispose();
    b['layer0.film.b'] = np.array(new Float32Array([0.5, -1, 2, 0, 1, 0, 0, -3]));
    const mixed = jax.random.normal(jax.random.key(4), [2, 3, 3, 4]);
    const before = (await mixed.ref.data()) as Float32Array;
    const out = (await film(b, 0, mixed, np.ones([2, 4])).data()) as Float32Array;
    const [gamma, beta] = [
      [0.5, -1, 2, 0],
      [1, 0, 0, -3],
    ];
    out.forEach((v, i) => {
      const c = i % 4;
      assert.ok(Math.abs(v - (before[i]! * (1 + gamma[c]!) + beta[c]!)) < 1e-5, `at ${i}`);
    });
    jax.tree.dispose(a);
    jax.tree.dispose(b);
  });

  it('noise measure: unit pointwise variance at 32²', () => {
    const fields = sampleNoise({ tau: 3, alpha: 2 }, 32, 64, 1, 9);
    let sum = 0;
    let sq = 0;
    for (const v of fields) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / fields.length;
    const variance = sq / fields.length - mean * mean;
    assert.ok(Math.abs(variance - 1) < 0.15, `variance ${variance}`);
    assert.ok(Math.abs(mean) < 0.1, `mean ${mean}`);
  });

  it('jitted flow-matching steps fit a fixed batch', async () => {
    const shape: FnoShape = { channels: 1, width: 8, modes: 4, layers: 2, projection: 16 };
    const trainer = createFlowTrainer(shape, {
      seed: 0,
      batch: 8,
      steps: 40,
      peakLr: 5e-3,
      warmup: 2,
      weightDecay: 0,
      sigmaMin: 0,
    });
    const data = sampleNoise({ tau: 6, alpha: 2.5 }, 16, 64, 1, 1);
    const noise = sampleNoise({ tau: 3, alpha: 2 }, 16, 64, 1, 2);
    const uniform = uniformGenerator(3);
    const losses: number[] = [];
    // One batch over and over: the loss must fall well below its start (an optimiser sanity check).
    const t = Float32Array.from({ length: 8 }, () => uniform());
    const x0 = noise.slice(0, 8 * 256);
    const x1 = data.slice(0, 8 * 256);
    for (let step = 0; step < 40; step++)
      losses.push(await trainer.step({ x0, x1, t, size: 16 }, step).loss);
    trainer.dispose();
    const first = (losses[0]! + losses[1]! + losses[2]!) / 3;
    const last = (losses[37]! + losses[38]! + losses[39]!) / 3;
    assert.ok(last < 0.7 * first, `loss ${first} -> ${last}`);
  });
});
