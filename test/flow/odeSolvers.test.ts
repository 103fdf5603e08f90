/**
 * Flow-matching samplers against exact solutions: x' = a x + cos(2 pi t) (linear, with a known
 * closed form) converges at order 1, 2 and 4 for Euler, midpoint and RK4 with 1, 2 and 4
 * evaluations per step; Dormand-Prince meets its tolerance on a rotation field and counts NFE; the
 * straightness of a constant field is zero and of a quarter turn its closed form.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { integrateDopri5, integrateFixed, straightnessMeter } from '../../src/flow/odeSolvers.ts';

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
        const r = await integrateFixed(linear, x0, method, steps);
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
    const r = await integrateFixed(v, start, 'rk4', 32, 0, 1, meter.hook);
    const [straight, arc] = meter.finish(start, r.x);
    assert.ok(Math.abs(straight!) < 1e-5, `straight path: ${straight}`);
    // Constant speed angle·r along an arc whose chord is 2r sin(angle / 2).
    const expected = angle ** 2 / (4 * Math.sin(angle / 2) ** 2) - 1;
    assert.ok(Math.abs(arc! - expected) < 1e-4, `arc: ${arc} vs ${expected}`);
  });
});
