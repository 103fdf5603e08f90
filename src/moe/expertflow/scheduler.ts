/**
 * ExpertFlow's token scheduler: split pending sequences into batches of a fixed size so that each
 * batch's tokens share experts, i.e. minimise the summed size of the batches' expert sets. The
 * problem is NP-hard; like the paper, this runs balanced k-medoids on the Hamming distance between
 * the sequences' predicted expert sets (multi-hot over MoE layer x expert), with deterministic
 * farthest-point initialisation and capacity-limited assignment, then a pairwise-swap local search
 * on the objective itself; it keeps the better of that and the sequential grouping. Sequences keep their own KV-cache slots in driftflow's
 * engines, so regrouping needs no cache shuffling (the paper's Merge/Reindex).
 */

/** Bit-packed multi-hot set over L*E (layer, expert) pairs. */
export type RouteSet = Uint32Array;

export function routeSet(size: number, members: Iterable<number>): RouteSet {
  const set = new Uint32Array(Math.ceil(size / 32));
  for (const m of members) set[m >>> 5]! |= 1 << (m & 31);
  return set;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function hamming(a: RouteSet, b: RouteSet): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += popcount(a[i]! ^ b[i]!);
  return d;
}

/** Summed size of each group's union: the experts the batches activate (the objective). */
export function activatedExperts(sets: RouteSet[], groups: number[][]): number {
  let total = 0;
  for (const group of groups) {
    const union = new Uint32Array(sets[0]?.length ?? 0);
    for (const i of group) sets[i]!.forEach((w, j) => (union[j]! |= w));
    union.forEach((w) => (total += popcount(w)));
  }
  return total;
}

/**
 * Groups of `groupSize` items (the last may be smaller) with similar sets. Returns the grouping
 * with the fewest activated experts among the sequential one and the clustered one.
 */
export function scheduleBatches(sets: RouteSet[], groupSize: number, iterations = 10): number[][] {
  const n = sets.length;
  const sequential: number[][] = [];
  for (let i = 0; i < n; i += groupSize)
    sequential.push(Array.from({ length: Math.min(groupSize, n - i) }, (_, j) => i + j));
  const k = sequential.length;
  if (k <= 1) return sequential;
  const capacities = sequential.map((g) => g.length);
  const dist = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => hamming(sets[i]!, sets[j]!)),
  );
  // Farthest-point initial medoids, starting from item 0.
  const medoids = [0];
  while (medoids.length < k) {
    let best = -1;
    let far = -1;
    for (let i = 0; i < n; i++) {
      if (medoids.includes(i)) continue;
      const d = Math.min(...medoids.map((m) => dist[i]![m]!));
      if (d > far) [far, best] = [d, i];
    }
    medoids.push(best);
  }
  let groups: number[][] = [];
  for (let it = 0; it < iterations; it++) {
    // Capacity-limited assignment: closest (item, medoid) pairs first.
    const pairs: [number, number, number][] = [];
    for (let i = 0; i < n; i++) medoids.forEach((m, c) => pairs.push([dist[i]![m]!, i, c]));
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    const owner = new Int32Array(n).fill(-1);
    groups = medoids.map(() => []);
    for (const [, i, c] of pairs) {
      if (owner[i]! >= 0 || groups[c]!.length >= capacities[c]!) continue;
      owner[i] = c;
      groups[c]!.push(i);
    }
    let moved = false;
    groups.forEach((g, c) => {
      let best = medoids[c]!;
      let bestCost = Infinity;
      for (const candidate of g) {
        const cost = g.reduce((a, i) => a + dist[i]![candidate]!, 0);
        if (cost < bestCost) [bestCost, best] = [cost, candidate];
      }
      if (best !== medoids[c]) {
        medoids[c] = best;
        moved = true;
      }
    });
    if (!moved) break;
  }
  improveBySwaps(sets, groups);
  groups.forEach((g) => g.sort((a, b) => a - b));
  return activatedExperts(sets, groups) < activatedExperts(sets, sequential) ? groups : sequential;
}

/** Local search: swap items between groups while a swap lowers the activated experts. */
function improveBySwaps(sets: RouteSet[], groups: number[][], passes = 20): void {
  const cost = (g: number[]) => activatedExperts(sets, [g]);
  for (let pass = 0; pass < passes; pass++) {
    let improved = false;
    for (let a = 0; a < groups.length; a++)
      for (let b = a + 1; b < groups.length; b++) {
        const ga = groups[a]!;
        const gb = groups[b]!;
        let base = cost(ga) + cost(gb);
        for (let i = 0; i < ga.length; i++)
          for (let j = 0; j < gb.length; j++) {
            [ga[i], gb[j]] = [gb[j]!, ga[i]!];
            const swapped = cost(ga) + cost(gb);
            if (swapped < base) {
              base = swapped;
              improved = true;
            } else [ga[i], gb[j]] = [gb[j]!, ga[i]!];
          }
      }
    if (!improved) return;
  }
}
