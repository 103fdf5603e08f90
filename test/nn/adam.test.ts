/**
 * The shared AdamW: two steps on a small parameter record match the update computed by hand
 * (bias correction, global-norm clipping, decoupled weight decay only where asked), and the
 * cosine schedule warms up linearly and ends at its floor.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as jax from '@jax-js/jax';
import {
  adamInit,
  adamScalars,
  adamUpdate,
  cosineSchedule,
  DEFAULT_ADAM,
  type Params,
} from '../../src/nn/adam.ts';

const np = jax.numpy;

describe('AdamW', () => {
  before(async () => {
    await jax.init('wasm');
    jax.defaultDevice('wasm');
  });

  it('matches a hand-computed update with clipping and selective weight decay', async () => {
    const config = { ...DEFAULT_ADAM, beta2: 0.99, weightDecay: 0.1, clipNorm: 1 };
    const start = { w: [1, -2], norm: [0.5] };
    const gradsAt = [
      { w: [3, 4], norm: [0] }, // norm 5: clipped to 1
      { w: [0.1, -0.2], norm: [0.2] }, // norm 0.3: not clipped
    ];
    const lr = 0.01;
    // By hand, in f64.
    const p = { w: [...start.w], norm: [...start.norm] };
    const m = { w: [0, 0], norm: [0] };
    const v = { w: [0, 0], norm: [0] };
    gradsAt.forEach((g, step) => {
      const total = Math.hypot(...g.w, ...g.norm);
      const clip = Math.min(1, config.clipNorm / (total + 1e-6));
      for (const name of ['w', 'norm'] as const)
        p[name] = p[name].map((x, i) => {
          const gi = g[name][i]! * clip;
          m[name][i] = config.beta1 * m[name][i]! + (1 - config.beta1) * gi;
          v[name][i] = config.beta2 * v[name][i]! + (1 - config.beta2) * gi * gi;
          const mHat = m[name][i]! / (1 - config.beta1 ** (step + 1));
          const vHat = v[name][i]! / (1 - config.beta2 ** (step + 1));
          let update = mHat / (Math.sqrt(vHat) + config.eps);
          if (name === 'w') update += config.weightDecay * x;
          return x - lr * update;
        });
    });
    // With jax-js.
    let params: Params = { w: np.array(start.w), norm: np.array(start.norm) };
    let state = adamInit(params);
    for (const [step, g] of gradsAt.entries()) {
      const grads: Params = { w: np.array(g.w), norm: np.array(g.norm) };
      const up = adamUpdate(
        params,
        grads,
        state,
        adamScalars(config, step, lr),
        config,
        (name) => name === 'w',
      );
      up.gradNorm.dispose();
      params = up.params;
      state = up.state;
    }
    const got = {
      w: (await params.w!.data()) as Float32Array,
      norm: (await params.norm!.data()) as Float32Array,
    };
    jax.tree.dispose(state);
    for (const name of ['w', 'norm'] as const)
      got[name].forEach((x, i) =>
        assert.ok(Math.abs(x - p[name][i]!) < 1e-6, `${name}[${i}]: ${x} vs ${p[name][i]}`),
      );
  });

  it('cosine schedule: linear warm-up, then down to its floor', () => {
    assert.equal(cosineSchedule(0, 100, 1, 10), 0.1);
    assert.equal(cosineSchedule(9, 100, 1, 10), 1);
    assert.ok(Math.abs(cosineSchedule(10, 100, 1, 10) - 1) < 1e-12);
    assert.ok(Math.abs(cosineSchedule(55, 100, 1, 10) - 0.55) < 1e-12); // halfway: (1 + 0.1) / 2
    assert.ok(Math.abs(cosineSchedule(100, 100, 1, 10) - 0.1) < 1e-12);
  });
});
