// hw2d's finite-difference scheme (--scheme arakawa): the discrete conservation laws that define
// the Arakawa Jacobian, second-order convergence to the analytic bracket, and the whole stepper
// conserving Σn² and ΣΩ² when only the bracket acts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arakawaBracket, ArakawaStepper, laplacian5 } from '../../src/solvers/arakawa.ts';
import { type SimulationConfig, gridOf } from '../../src/solvers/config.ts';
import { initialState } from '../../src/solvers/initial.ts';
import { whiteNoise } from '../../src/spectral/random.ts';

const sum = (f: Float64Array) => f.reduce((s, v) => s + v, 0);
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe('Arakawa finite-difference scheme', () => {
  it('J(a, b) sums to zero and is orthogonal to a and b (energy and enstrophy conservation)', () => {
    const n = 32;
    const a = whiteNoise(n * n, 1);
    const b = whiteNoise(n * n, 2);
    const j = new Float64Array(n * n);
    arakawaBracket(a, b, n, n, 0.3, j);
    const scale = Math.sqrt(dot(j, j)) * Math.sqrt(dot(a, a));
    for (const [name, value] of [
      ['Σ J', sum(j) * Math.sqrt(dot(a, a))],
      ['Σ a J', dot(a, j)],
      ['Σ b J', dot(b, j) * Math.sqrt(dot(a, a) / dot(b, b))],
    ] as const)
      assert.ok(Math.abs(value) < 1e-12 * scale, `${name} = ${value} (scale ${scale})`);
  });

  it('converges to the analytic bracket at second order, and Δ₅ too', () => {
    const errors = [32, 64].map((n) => {
      const d = (2 * Math.PI) / n;
      const field = (fn: (x: number, y: number) => number) =>
        Float64Array.from({ length: n * n }, (_, k) => fn((k % n) * d, Math.floor(k / n) * d));
      const a = field((x, y) => Math.sin(x) * Math.cos(2 * y));
      const b = field((x, y) => Math.cos(3 * x) * Math.sin(y));
      // ∂x a ∂y b − ∂y a ∂x b
      const exact = field(
        (x, y) =>
          Math.cos(x) * Math.cos(2 * y) * Math.cos(3 * x) * Math.cos(y) -
          -2 * Math.sin(x) * Math.sin(2 * y) * (-3 * Math.sin(3 * x) * Math.sin(y)),
      );
      const j = new Float64Array(n * n);
      arakawaBracket(a, b, n, n, d, j);
      const lap = new Float64Array(n * n);
      laplacian5(a, n, n, d, lap);
      const max = (f: (k: number) => number) =>
        Array.from({ length: n * n }, (_, k) => Math.abs(f(k))).reduce((m, v) => Math.max(m, v));
      return [max((k) => j[k]! - exact[k]!), max((k) => lap[k]! + 5 * a[k]!)];
    });
    for (const q of [0, 1]) {
      const order = Math.log2(errors[0]![q]! / errors[1]![q]!);
      assert.ok(order > 1.9 && order < 2.2, `observed order ${order} (${errors.map((e) => e[q])})`);
    }
  });

  it('with only the bracket acting, RK4 steps conserve Σn² and ΣΩ² to 1e-6', async () => {
    const config = {
      nx: 64,
      ny: 64,
      lx: (2 * Math.PI) / 0.15,
      ly: (2 * Math.PI) / 0.15,
      scheme: 'arakawa',
    } as SimulationConfig;
    const grid = gridOf(config);
    const model = { kind: 'hw', c1: 0, kappa: 0, nu: 0, hyperOrder: 3, modified: false } as const;
    const stepper = new ArakawaStepper(grid, model, 0.01);
    await stepper.setState(initialState(model, grid, 'noise', 1, 3));
    const norms = async () => {
      const state = await stepper.getState();
      // Parseval over the half spectrum: modes with kx > 0 stand for their conjugates too.
      return state.map((f) =>
        grid.weight.reduce((s, w, i) => s + w * (f[2 * i]! ** 2 + f[2 * i + 1]! ** 2), 0),
      );
    };
    const before = await norms();
    await stepper.advance(100, 100);
    const after = await norms();
    before.forEach((v, f) => {
      const drift = Math.abs(after[f]! - v) / v;
      assert.ok(drift < 1e-6, `field ${f}: relative drift ${drift}`);
    });
    assert.ok(before[0]! > 0);
  });
});
