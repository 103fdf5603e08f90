/**
 * Structure functions against a closed form: for the stream function ψ = sin(2πax) sin(2πby) on
 * the unit square (vorticity ω = −Δψ), u_x = 2πb sin(2πax) cos(2πby) differenced along x gives
 * S2 = (2πb)² sin²(πaρ) and S4 = 16·(3/8)²·(2πb)⁴ sin⁴(πaρ) at separation ρ (box lengths), and u_y
 * along y the same with a and b swapped; the reported values average the two axes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { separations, structureFunctions } from '../../src/flow/structureFunctions.ts';

describe('structure functions', () => {
  it('match the closed form of a single cellular flow', () => {
    const n = 32;
    const [a, b] = [1, 2];
    const omega = new Float64Array(n * n);
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++)
        omega[y * n + x] =
          4 *
          Math.PI ** 2 *
          (a * a + b * b) *
          Math.sin((2 * Math.PI * a * x) / n) *
          Math.sin((2 * Math.PI * b * y) / n);
    const sf = structureFunctions(omega, 1, n, 1, 0, 'velocity');
    assert.deepEqual(sf.r, separations(n));
    assert.deepEqual(sf.r, [1, 2, 3, 4, 6, 8]);
    sf.rBox.forEach((rho, j) => {
      const sx = Math.sin(Math.PI * a * rho) ** 2;
      const sy = Math.sin(Math.PI * b * rho) ** 2;
      const s2 = ((2 * Math.PI * b) ** 2 * sx + (2 * Math.PI * a) ** 2 * sy) / 2;
      const s4 =
        (16 * (9 / 64) * ((2 * Math.PI * b) ** 4 * sx * sx + (2 * Math.PI * a) ** 4 * sy * sy)) / 2;
      assert.ok(Math.abs(sf.S[2]![j]! / s2 - 1) < 1e-9, `S2 at ${rho}: ${sf.S[2]![j]} vs ${s2}`);
      assert.ok(Math.abs(sf.S[4]![j]! / s4 - 1) < 1e-9, `S4 at ${rho}: ${sf.S[4]![j]} vs ${s4}`);
      assert.ok(Math.abs(sf.flatness[j]! - s4 / s2 ** 2) < 1e-9);
    });
  });
});
