/**
 * Flow-matching samplers against exact solutions: x' = a x + cos(2 pi t) (linear, with a known
 * closed form) converges at order 1, 2 and 4 for Euler, midpoint and RK4 with 1, 2 and 4
 * evaluations per step; Dormand-Prince meets its tolerance on a rotation field and counts NFE; the
 * straightness of a constant field is zero and of a quarter turn its closed form. Time grids: the
 * orders hold on a warped grid, and on the exact flow of independent-coupling flow matching
 * between 1-D Gaussians the cosine grid keeps the variance that the even grid loses in few steps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  integrate,
  integrateDopri5,
  integrateFixed,
  straightnessMeter,
  TIME_GRIDS,
  timeGrid,
} from '../../src/flow/odeSolvers.ts';

const a = -1.3;
const w = 2 * Math.PI;
/** Exact x(1) of x' = a x + cos(w t), x(0) = x0. */
function exact(x0: number): number {
  // Particular solution x_p = (a... ) : x_p = (w sin(wt) - a cos(wt)) / (a² + w²).
  const xp = (t: number) => (w * Math.sin(w * t) - a * Math.cos(w * t)) / (a * a + w * w);
  return (x0 - xp(0)) * Math.exp(a) + xp(1);
}
const linear = async (x: Float32Array, t: number) => x.map((v) => a * v + Math.cos(w * t));

describe('ODE samplers', () => {
  it('Euler, midpoint and RK4 converge at orders 1, 2 and 4 and count evaluations', async () => {
    const x0 = Float32Array.from([0.5, -1, 2]);
    // RK4 on coarse steps: at 16 steps its error is already near f32 round-off.
    for (const [method, order, perStep, steps] of [
      ['euler', 1, 1, 16],
      ['midpoint', 2, 2, 16],
      ['rk4', 4, 4, 4],
    ] as const) {
      const error = async (steps: number) => {
        const r = await integrateFixed(linear, x0, method, timeGrid('uniform', steps));
        assert.equal(r.nfe, perStep * steps);
        return Math.max(...[...r.x].map((v, i) => Math.abs(v - exact(x0[i]!))));
      };
      const [e1, e2] = [await error(steps), await error(2 * steps)];
      const observed = Math.log2(e1 / e2);
      assert.ok(Math.abs(observed - order) < 0.3, `${method}: observed order ${observed}`);
    }
  });

  it('Dormand-Prince meets its tolerance on a rotation and spends fewer NFE when looser', async () => {
    // x' = -2 pi y, y' = 2 pi x: one full turn over t in [0, 1].
    const rotate = async (s: Float32Array) => Float32Array.from([-w * s[1]!, w * s[0]!]);
    const start = Float32Array.from([1, 0]);
    const tight = await integrateDopri5(rotate, start, { rtol: 1e-6, atol: 1e-7 });
    assert.ok(Math.hypot(tight.x[0]! - 1, tight.x[1]!) < 1e-4, `end ${tight.x}`);
    const loose = await integrateDopri5(rotate, start, { rtol: 1e-2, atol: 1e-3 });
    assert.ok(loose.nfe < tight.nfe, `${loose.nfe} vs ${tight.nfe}`);
    assert.equal(tight.nfe, 1 + 6 * (tight.steps + tight.rejected));
    await assert.rejects(
      integrateDopri5(rotate, start, { rtol: 1e-12, atol: 1e-14, maxSteps: 5 }),
      /more than 5 steps/,
    );
  });

  it('measures path straightness: zero on straight paths, the closed form on an arc', async () => {
    // Two fields of two values: one moves at constant velocity, one turns through `angle`.
    const angle = Math.PI / 2;
    const v = async (s: Float32Array) =>
      Float32Array.from([0.3, -0.7, -angle * s[3]!, angle * s[2]!]);
    const start = Float32Array.from([1, 2, 1, 0]);
    const meter = straightnessMeter(2);
    const r = await integrate(v, start, 'rk4', { steps: 32, onEvaluation: meter.hook });
    const [straight, arc] = meter.finish(start, r.x);
    assert.ok(Math.abs(straight!) < 1e-5, `straight path: ${straight}`);
    // Constant speed angle·r along an arc whose chord is 2r sin(angle / 2).
    const expected = angle ** 2 / (4 * Math.sin(angle / 2) ** 2) - 1;
    assert.ok(Math.abs(arc! - expected) < 1e-4, `arc: ${arc} vs ${expected}`);
  });

  it('time grids run from 0 to 1, increase, and keep the orders of convergence', async () => {
    for (const grid of TIME_GRIDS) {
      const times = timeGrid(grid, 5);
      assert.equal(times.length, 6);
      assert.equal(times[0], 0);
      assert.equal(times[5], 1);
      assert.ok(
        times.every((t, n) => n === 0 || t > times[n - 1]!),
        `${grid}: ${times}`,
      );
    }
    const x0 = Float32Array.from([0.5, -1, 2]);
    const error = async (steps: number) => {
      const r = await integrate(linear, x0, 'midpoint', { steps, grid: 'cosine' });
      return Math.max(...[...r.x].map((v, i) => Math.abs(v - exact(x0[i]!))));
    };
    const observed = Math.log2((await error(16)) / (await error(32)));
    assert.ok(Math.abs(observed - 2) < 0.3, `midpoint on the cosine grid: order ${observed}`);
    await assert.rejects(integrateFixed(linear, x0, 'euler', [0, 0.5, 0.5, 1]), /increasing/);
  });

  it('the cosine grid keeps the variance of a few-step Gaussian flow that the even grid loses', async () => {
    // Independent-coupling flow matching from N(0, r²) to N(0, 1) per value: the exact velocity
    // is E[x1 - x0 | x_t] = (t - (1 - t) r²) / ((1 - t)² r² + t²) x_t. Midpoint in 4 steps or
    // Euler in 8 (8 NFE each).
    const variance = async (
      r: number,
      grid: 'uniform' | 'cosine',
      method: 'midpoint' | 'euler' = 'midpoint',
    ) => {
      const flow = async (x: Float32Array, t: number) =>
        x.map((v) => ((t - (1 - t) * r * r) / ((1 - t) ** 2 * r * r + t * t)) * v);
      const steps = method === 'midpoint' ? 4 : 8;
      const { x } = await integrate(flow, Float32Array.from([r]), method, { steps, grid });
      return x[0]! ** 2;
    };
    for (const r of [0.1, 0.3, 1, 3, 10]) {
      const kept = await variance(r, 'cosine');
      assert.ok(Math.abs(kept - 1) < 0.14, `cosine grid, r = ${r}: variance ${kept}`);
    }
    const even = await variance(0.1, 'uniform');
    assert.ok(even < 0.7, `even grid, r = 0.1: variance ${even}`);
    // Euler on the even grid keeps 0.29-0.72 of the variance over these r (docs/fotcfm.md).
    for (const r of [0.1, 0.3, 1, 3, 10]) {
      const kept = await variance(r, 'uniform', 'euler');
      assert.ok(kept > 0.28 && kept < 0.73, `Euler, 8 steps, r = ${r}: variance ${kept}`);
    }
  });
});
