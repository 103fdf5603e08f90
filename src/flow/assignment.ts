/**
 * Minibatch optimal transport for flow matching: pair each noise sample with one data sample so the
 * summed squared L² distance between the paired functions is least. The cost is the L² norm of the
 * difference on the periodic domain by the grid's quadrature (mean over grid points times the
 * domain area), so it is the same functional cost at every resolution. Solved exactly by the
 * shortest-augmenting-path Hungarian method (O(n³), fine for batches up to a few hundred), or
 * approximately by entropic Sinkhorn iterations (a soft plan, from which pairs are drawn).
 */

/** cost[i * n + j] = ||x0_i - x1_j||²_L², fields of `points` values each, domain of `area`. */
export function l2CostMatrix(
  x0: Float32Array,
  x1: Float32Array,
  n: number,
  points: number,
  area = 1,
): Float64Array {
  const cost = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let acc = 0;
      const a = i * points;
      const b = j * points;
      for (let p = 0; p < points; p++) {
        const d = x0[a + p]! - x1[b + p]!;
        acc += d * d;
      }
      cost[i * n + j] = (acc / points) * area;
    }
  return cost;
}

/**
 * Exact linear assignment: returns `match` with match[i] = the column assigned to row i, minimising
 * sum cost[i, match[i]] (square n x n cost, row-major). Shortest augmenting paths with potentials
 * (Jonker-Volgenant / Kuhn-Munkres), O(n³).
 */
export function solveAssignment(cost: ArrayLike<number>, n: number): Int32Array {
  if (cost.length !== n * n) throw new Error(`cost has ${cost.length} entries, expected ${n}x${n}`);
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const rowOf = new Int32Array(n + 1); // rowOf[j]: row matched to column j (1-based; 0 = none)
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    rowOf[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = rowOf[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const reduced = cost[(i0 - 1) * n + (j - 1)]! - u[i0]! - v[j]!;
        if (reduced < minv[j]!) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[rowOf[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    do {
      const j1 = way[j0]!;
      rowOf[j0] = rowOf[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const match = new Int32Array(n);
  for (let j = 1; j <= n; j++) match[rowOf[j]! - 1] = j - 1;
  return match;
}

export function assignmentCost(
  cost: ArrayLike<number>,
  n: number,
  match: ArrayLike<number>,
): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += cost[i * n + match[i]!]!;
  return total;
}

/**
 * Entropic OT between uniform marginals: the plan P (row-major n x n, rows and columns summing to
 * 1/n) of `iterations` Sinkhorn steps at regularisation eps (relative to the mean cost), computed
 * in the log domain so small eps does not underflow.
 */
export function sinkhornPlan(
  cost: ArrayLike<number>,
  n: number,
  eps = 0.05,
  iterations = 200,
): Float64Array {
  let mean = 0;
  for (let i = 0; i < n * n; i++) mean += cost[i]!;
  const scale = eps * Math.max(mean / (n * n), 1e-30);
  const f = new Float64Array(n);
  const g = new Float64Array(n);
  const logMarginal = -Math.log(n);
  const lse = (values: Float64Array) => {
    let max = -Infinity;
    for (const x of values) max = Math.max(max, x);
    let sum = 0;
    for (const x of values) sum += Math.exp(x - max);
    return max + Math.log(sum);
  };
  const row = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) row[j] = (g[j]! - cost[i * n + j]!) / scale;
      f[i] = scale * (logMarginal - lse(row));
    }
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) row[i] = (f[i]! - cost[i * n + j]!) / scale;
      g[j] = scale * (logMarginal - lse(row));
    }
  }
  const plan = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      plan[i * n + j] = Math.exp((f[i]! + g[j]! - cost[i * n + j]!) / scale);
  return plan;
}

/** One partner per row drawn from a plan's rows (seeded uniform draws in [0, 1)). */
export function samplePairs(plan: Float64Array, n: number, uniform: () => number): Int32Array {
  const match = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let j = 0; j < n; j++) total += plan[i * n + j]!;
    let r = uniform() * total;
    let j = 0;
    for (; j < n - 1; j++) {
      r -= plan[i * n + j]!;
      if (r < 0) break;
    }
    match[i] = j;
  }
  return match;
}
