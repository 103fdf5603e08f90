/**
 * Minibatch optimal transport: the exact assignment equals brute force over all permutations,
 * Sinkhorn's plan has uniform marginals and approaches the exact cost as eps shrinks, and the L²
 * cost is the same functional distance at every grid resolution.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assignmentCost,
  l2CostMatrix,
  samplePairs,
  sinkhornPlan,
  solveAssignment,
} from '../../src/flow/assignment.ts';
import { uniformGenerator } from '../../src/spectral/random.ts';

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
  );
}

describe('optimal assignment', () => {
  it('matches brute force on random costs (n = 1..7, with ties and negatives)', () => {
    const uniform = uniformGenerator(11);
    for (let n = 1; n <= 7; n++)
      for (let trial = 0; trial < 20; trial++) {
        const cost = Float64Array.from({ length: n * n }, () =>
          trial % 4 === 0 ? Math.floor(uniform() * 3) : uniform() * 10 - 3,
        );
        const match = solveAssignment(cost, n);
        assert.deepEqual(
          [...match].sort((a, b) => a - b),
          [...Array(n).keys()],
          'a permutation',
        );
        const best = Math.min(...permutations(n).map((p) => assignmentCost(cost, n, p)));
        assert.ok(Math.abs(assignmentCost(cost, n, match) - best) < 1e-9, `n ${n} trial ${trial}`);
      }
  });

  it('solves 256 x 256 and beats the identity pairing', () => {
    const uniform = uniformGenerator(3);
    const n = 256;
    const cost = Float64Array.from({ length: n * n }, () => uniform());
    const match = solveAssignment(cost, n);
    const identity = Array.from({ length: n }, (_, i) => i);
    assert.ok(assignmentCost(cost, n, match) < 0.05 * assignmentCost(cost, n, identity));
  });

  it('Sinkhorn: uniform marginals, cost near the exact one, pairs from a sharp plan', () => {
    const uniform = uniformGenerator(5);
    const n = 12;
    const cost = Float64Array.from({ length: n * n }, () => uniform());
    const exact = assignmentCost(cost, n, solveAssignment(cost, n));
    const plan = sinkhornPlan(cost, n, 0.01, 500);
    for (let i = 0; i < n; i++) {
      let row = 0;
      let col = 0;
      for (let j = 0; j < n; j++) {
        row += plan[i * n + j]!;
        col += plan[j * n + i]!;
      }
      assert.ok(Math.abs(row - 1 / n) < 1e-3 && Math.abs(col - 1 / n) < 1e-3);
    }
    let planCost = 0;
    for (let i = 0; i < n * n; i++) planCost += plan[i]! * cost[i]! * n;
    assert.ok(planCost < exact * 1.1 && planCost >= exact - 1e-9, `${planCost} vs ${exact}`);
    const pairs = samplePairs(plan, n, uniformGenerator(1));
    assert.ok(assignmentCost(cost, n, pairs) < exact * 1.3);
  });

  it('L² cost is the same functional distance on 16² and 64² grids', () => {
    const sample = (size: number, phase: number) => {
      const out = new Float32Array(size * size);
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++)
          out[y * size + x] =
            Math.sin((2 * Math.PI * (x + phase)) / size) * Math.cos((2 * Math.PI * y) / size);
      return out;
    };
    const costAt = (size: number) => {
      const shift = size / 4; // a quarter period, at either resolution
      const x0 = new Float32Array([...sample(size, 0), ...sample(size, shift)]);
      const x1 = new Float32Array([...sample(size, shift), ...sample(size, 0)]);
      return l2CostMatrix(x0, x1, 2, size * size, 1);
    };
    const coarse = costAt(16);
    const fine = costAt(64);
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(coarse[i]! - fine[i]!) < 1e-5);
    // ||sin(a) cos(b) - cos(a) cos(b)||² averaged over the torus = 1/2.
    assert.ok(Math.abs(coarse[0]! - 0.5) < 1e-5);
  });
});
