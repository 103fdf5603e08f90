// The flow trainer's EMA of the weights: it follows ema ← d·ema + (1 − d)·params with the
// warm-up decay d = min(decay, (1 + step) / (10 + step)), so after a few steps it is mostly the
// trained weights, not the random initial ones (a plain 0.999 would keep 0.999^steps of those).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as jax from '@jax-js/jax';
import { createFlowTrainer, emaDecayAt } from '../../src/flow/flowTrainer.ts';
import { sampleNoise } from '../../src/flow/noise.ts';

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
