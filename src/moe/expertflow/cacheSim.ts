/**
 * Trace-driven simulation of the GPU expert cache: replays recorded routes of sequences decoded in
 * batches through the same `ExpertCache` bookkeeping the engine uses, so hit ratios and bytes moved
 * of `lru`, ExpertFlow's predictive cache and the oracle (Belady) bound are compared on identical
 * routing, at any budget and batch size, without a GPU.
 *
 * Per decode step and MoE layer, a batch needs the union of its tokens' true experts. All policies
 * run them in waves of the layer's slots (pinned while running):
 * - `lru`: experts in id order (as the engine runs them; `hitsFirst` runs resident ones first), the
 *   least recently used unpinned expert is evicted.
 * - `expertflow`: first prefetches the experts predicted for this step's tokens (top-k per token,
 *   into slots not holding predicted experts), then runs resident experts first; a victim is the
 *   expert with the least predicted need (this step's predicted set first, then the coming steps'
 *   predicted probabilities when the coming tokens are known (`offline`, a teacher-forced
 *   continuation), else the current tokens').
 * - `oracle`: no prefetch, hits first, evicts the expert whose next true use is furthest away.
 * With `sharedSlots` all layers share one pool (the cache evicts by layer turn first, see
 * expertCache.ts); `oracle` then applies Belady within the current layer only.
 * A hit is an expert resident when the router needs it (prefetched ones included, as the paper
 * counts); `loads` counts every copy (misses plus prefetches), the bytes that cross the bus.
 * Prefill is replayed (it fills the cache) but only decode steps are counted, as in the paper.
 */
import { ExpertCache, type Need } from '../expertCache.ts';
import { type RouteExamples, topIndices } from '../predictor/routeMetrics.ts';
import { type RouteSet, routeSet, scheduleBatches } from './scheduler.ts';

export type SimPolicy = 'lru' | 'expertflow' | 'oracle';

type Token = [sequence: number, position: number];

export interface SimOptions {
  data: RouteExamples;
  batch: number;
  slotsPerLayer: number;
  /** Instead of slots per layer: one pool of this many slots shared by all layers. */
  sharedSlots?: number;
  policy: SimPolicy;
  /** expertflow: per sequence, per token, predicted probabilities [L*E]. */
  predicted?: ArrayLike<number>[][];
  /** expertflow: whether the next token's prediction is available (teacher-forced replay). */
  horizon?: 'online' | 'offline';
  /** Regroup each pair of consecutive batches every decode step by predicted routes. */
  schedule?: boolean;
  /** lru: run resident experts first (a stronger LRU than the engine's id order). */
  hitsFirst?: boolean;
  /** Decode steps ahead the oracle and offline ExpertFlow look at (default 8). */
  lookahead?: number;
  /**
   * expertflow: prefetch a predicted expert only if a token gives it at least this probability
   * (default 0: every predicted expert; Infinity: no prefetch, only need-based eviction and
   * hits-first order).
   */
  prefetchThreshold?: number;
}

export interface SimResult {
  policy: SimPolicy;
  batch: number;
  slotsPerLayer: number;
  /** Size of the shared pool, or null (slots per layer). */
  sharedSlots: number | null;
  scheduled: boolean;
  decodeSteps: number;
  accesses: number;
  hits: number;
  hitRatio: number;
  /** Copies during decode: misses (on demand) and prefetches. */
  onDemandLoads: number;
  prefetchLoads: number;
  loads: number;
  /** Mean distinct experts a batch activates per MoE layer and decode step. */
  activePerLayer: number;
  /** Token scheduler CPU time per decision (ms): mean and max. */
  schedulerMs: { mean: number; max: number } | null;
}

export function simulateCache(o: SimOptions): SimResult {
  const { data } = o;
  const { moeLayers: L, numExperts: E, topK: K } = data;
  if (o.policy === 'expertflow' && !o.predicted)
    throw new Error('the expertflow policy needs predicted routes');
  const cache =
    o.sharedSlots === undefined
      ? new ExpertCache(L, E, Math.min(E, o.slotsPerLayer))
      : new ExpertCache(L, E, Math.min(L * E, o.sharedSlots), true);
  const lookahead = o.lookahead ?? 8;
  const threshold = o.prefetchThreshold ?? 0;
  const truth = (s: number, t: number, l: number): Uint16Array =>
    data.sequences[s]!.experts.subarray((t * L + l) * K, (t * L + l + 1) * K);
  const predictedSet = (s: number, t: number, l: number): number[] =>
    topIndices(o.predicted![s]![t]!, l * E, E, K);

  let accesses = 0;
  let hits = 0;
  let onDemand = 0;
  let prefetchLoads = 0;
  let active = 0;
  let layerSteps = 0;
  let decodeSteps = 0;
  const schedulerTimes: number[] = [];

  /**
   * One batch step: tokens (s, t) of the batch at every layer; `count` only for decode. `future`
   * lists the tokens of the coming steps (nearest first) that the policy may look at.
   */
  const runStep = (tokens: Token[], count: boolean, future: Token[][]): void => {
    for (let l = 0; l < L; l++) {
      const needed = new Set<number>();
      for (const [s, t] of tokens) for (const e of truth(s, t, l)) needed.add(e);
      let need: Need | undefined;
      if (o.policy === 'expertflow') {
        const predicted = new Set<number>();
        const confident = new Set<number>();
        for (const [s, t] of tokens)
          for (const e of predictedSet(s, t, l)) {
            predicted.add(e);
            if (o.predicted![s]![t]![l * E + e]! >= threshold) confident.add(e);
          }
        const next = new Float64Array(E);
        future.forEach((step, h) => {
          for (const [s, t] of step) {
            const p = o.predicted![s]![t]!;
            for (let e = 0; e < E; e++) next[e]! += p[l * E + e]! * 0.5 ** h;
          }
        });
        need = (e) => (predicted.has(e) ? 1e6 : 0) + next[e]!;
        const before = cache.prefetches;
        const order = [...confident].sort((a, b) => next[b]! - next[a]! || a - b);
        cache.prefetchPredicted(l, order, predicted, need);
        if (count) prefetchLoads += cache.prefetches - before;
      } else if (o.policy === 'oracle') {
        // Belady: the expert whose next use is furthest away (or never) goes first.
        const distance = new Map<number, number>();
        future.forEach((step, h) => {
          for (const [s, t] of step)
            for (const e of truth(s, t, l)) if (!distance.has(e)) distance.set(e, h + 1);
        });
        need = (e) => (needed.has(e) ? 1e6 : 0) + (distance.has(e) ? 1 / distance.get(e)! : 0);
      }
      let order = [...needed].sort((a, b) => a - b);
      if (o.policy !== 'lru' || o.hitsFirst) {
        const resident = new Set(cache.resident(l));
        const rank = need ?? (() => 0);
        order = [
          ...order.filter((e) => resident.has(e)),
          ...order.filter((e) => !resident.has(e)).sort((a, b) => rank(a) - rank(b) || a - b),
        ];
      }
      for (let w = 0; w < order.length; w += cache.capacity) {
        const wave = order.slice(w, w + cache.capacity);
        const pinned = new Set(wave);
        for (const e of wave) {
          const { load } = cache.acquire(l, e, pinned, need);
          if (!count) continue;
          accesses++;
          if (load) onDemand++;
          else hits++;
        }
      }
      if (count) {
        active += needed.size;
        layerSteps++;
      }
    }
  };

  /** What the policy may know of the steps after position t of sequences b. */
  const futureOf = (b: number[], t: number): Token[][] => {
    const ahead = (h: number): Token[] =>
      b.filter((s) => t + h < data.sequences[s]!.tokens.length).map((s): Token => [s, t + h]);
    if (o.policy === 'oracle' || (o.policy === 'expertflow' && o.horizon === 'offline'))
      return Array.from({ length: lookahead }, (_, h) => ahead(h + 1));
    if (o.policy === 'expertflow') return [ahead(0)];
    return [];
  };

  const groupSize = o.schedule ? 2 * o.batch : o.batch;
  for (let g = 0; g < data.sequences.length; g += groupSize) {
    const group = Array.from(
      { length: Math.min(groupSize, data.sequences.length - g) },
      (_, i) => g + i,
    );
    const batches = (live: number[]): number[][] => {
      const out: number[][] = [];
      for (let i = 0; i < live.length; i += o.batch) out.push(live.slice(i, i + o.batch));
      return out;
    };
    for (const b of batches(group)) {
      const prompt = b.flatMap((s) =>
        Array.from({ length: data.sequences[s]!.promptLength }, (_, t): Token => [s, t]),
      );
      runStep(prompt, false, futureOf(b, data.sequences[b[0]!]!.promptLength - 1));
    }
    const longest = Math.max(...group.map((s) => data.sequences[s]!.tokens.length));
    const firstDecode = Math.min(...group.map((s) => data.sequences[s]!.promptLength));
    for (let t = firstDecode; t < longest; t++) {
      const live = group.filter(
        (s) => t >= data.sequences[s]!.promptLength && t < data.sequences[s]!.tokens.length,
      );
      if (live.length === 0) continue;
      let grouping = batches(live);
      if (o.schedule && live.length > o.batch) {
        const started = performance.now();
        const sets: RouteSet[] = live.map((s) =>
          routeSet(
            L * E,
            Array.from({ length: L }, (_, l) => predictedSet(s, t, l).map((e) => l * E + e)).flat(),
          ),
        );
        grouping = scheduleBatches(sets, o.batch).map((idx) => idx.map((i) => live[i]!));
        schedulerTimes.push(performance.now() - started);
      }
      for (const b of grouping) {
        const future = futureOf(b, t);
        runStep(
          b.map((s): Token => [s, t]),
          true,
          future,
        );
        decodeSteps++;
      }
    }
  }
  const mean = schedulerTimes.reduce((a, b) => a + b, 0) / Math.max(1, schedulerTimes.length);
  return {
    policy: o.policy,
    batch: o.batch,
    slotsPerLayer: cache.shared ? 0 : cache.slots,
    sharedSlots: cache.shared ? cache.slots : null,
    scheduled: o.schedule ?? false,
    decodeSteps,
    accesses,
    hits,
    hitRatio: accesses === 0 ? 1 : hits / accesses,
    onDemandLoads: onDemand,
    prefetchLoads,
    loads: onDemand + prefetchLoads,
    activePerLayer: layerSteps === 0 ? 0 : active / layerSteps,
    schedulerMs: schedulerTimes.length > 0 ? { mean, max: Math.max(...schedulerTimes) } : null,
  };
}
