// The flow trainer's EMA of the weights: it follows ema ← d·ema + (1 − d)·params with the
// warm-up decay d = min(decay, (1 + step) / (10 + step)), so after a few steps it is mostly the
// trained weights, not the random initial ones (a plain 0.999 would keep 0.999^steps of those).
// The Fourier-space loss: equal shell weights reproduce the pixel MSE (Parseval).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as jax from '@jax-js/jax';
import { createFlowTrainer, emaDecayAt } from '../../src/flow/flowTrainer.ts';
import { sampleNoise } from '../../src/flow/noise.ts';
import { shellLossWeights } from '../../src/flow/shellLossWeights.ts';

describe('flow trainer EMA', () => {
  before(async () => {
    await jax.init('wasm');
    jax.defaultDevice('wasm');
  });

  it('warms its decay up and averages the weights with it', async () => {
    assert.equal(emaDecayAt(0.999, 0), 0.1);
    assert.equal(emaDecayAt(0.999, 90), 0.91);
    assert.equal(emaDecayAt(0.999, 1e6), 0.999);
    const n = 8;
    const batch = 4;
    const trainer = createFlowTrainer(
      { channels: 1, width: 4, modes: 2, layers: 1, projection: 8 },
      {
        seed: 0,
        batch,
        steps: 10,
        peakLr: 1e-2,
        warmup: 0,
        weightDecay: 0,
        sigmaMin: 0,
        emaDecay: 0.999,
      },
    );
    let ema = (await trainer.snapshot()).ema;
    for (let step = 0; step < 3; step++) {
      const x0 = sampleNoise({ tau: 3, alpha: 2 }, n, batch, 1, 10 + step);
      const x1 = sampleNoise({ tau: 8, alpha: 3 }, n, batch, 1, 20 + step);
      const t = new Float32Array(batch).fill(0.5);
      await trainer.step({ x0, x1, t, size: n }, step).loss;
      const now = await trainer.snapshot();
      const d = emaDecayAt(0.999, step);
      let moved = 0;
      for (const [name, params] of now.params) {
        const before = ema.get(name)!;
        const after = now.ema.get(name)!;
        params.forEach((p, i) => {
          const expected = d * before[i]! + (1 - d) * p;
          assert.ok(Math.abs(after[i]! - expected) <= 1e-5 * (1 + Math.abs(expected)), name);
          moved = Math.max(moved, Math.abs(after[i]! - before[i]!));
        });
      }
      assert.ok(moved > 0, 'the average moved');
      ema = now.ema;
    }
    trainer.dispose();
  });
});

describe('Fourier-space loss weights', () => {
  before(async () => {
    await jax.init('wasm');
    jax.defaultDevice('wasm');
  });

  it('equal shell weights give the pixel MSE (Parseval); low-power shells weigh more', async () => {
    const n = 16;
    const batch = 4;
    const data = sampleNoise({ tau: 4, alpha: 3 }, n, 32, 1, 3);
    const noise = sampleNoise({ tau: 3, alpha: 2 }, n, 32, 1, 4);
    const flat = shellLossWeights(data, 32, noise, 32, n, 1, 4, 0);
    const sum = flat.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum * n * n - 1) < 1e-5, `normalisation ${sum * n * n}`);
    const config = {
      seed: 0,
      batch,
      steps: 2,
      peakLr: 1e-3,
      warmup: 0,
      weightDecay: 0,
      sigmaMin: 0,
    };
    const shape = { channels: 1, width: 4, modes: 4, layers: 1, projection: 8 };
    const x0 = noise.slice(0, batch * n * n);
    const x1 = data.slice(0, batch * n * n);
    const t = Float32Array.of(0.1, 0.4, 0.6, 0.9);
    const losses: number[] = [];
    for (const lossWeights of [undefined, flat]) {
      const trainer = createFlowTrainer(shape, {
        ...config,
        ...(lossWeights ? { lossWeights } : {}),
      });
      losses.push(await trainer.step({ x0, x1, t, size: n }, 0).loss);
      trainer.dispose();
    }
    assert.ok(Math.abs(losses[1]! / losses[0]! - 1) < 1e-4, `losses ${losses}`);
    // The data decay faster than the noise; with exponent 0.5 the weights fall with the target
    // power: the mode at shell 4 (lowest power of the kept band) outweighs shell 1.
    const weighted = shellLossWeights(data, 32, noise, 32, n, 1, 4);
    const k = n / 2 + 1;
    const at = (ky: number, kx: number) => weighted[ky * k + kx]! / (kx === 0 ? 1 : 2);
    assert.ok(at(0, 4) > 1.5 * at(0, 1), `shell 4 ${at(0, 4)} vs shell 1 ${at(0, 1)}`);
    assert.equal(at(0, 7), at(0, 4), 'shells above the kept band take its last weight');
  });
});
