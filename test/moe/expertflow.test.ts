/**
 * ExpertFlow's token scheduler and the trace-driven cache simulation: the scheduler finds the
 * brute-force optimum on clustered inputs and never activates more experts than the sequential
 * grouping; LRU replays a hand-counted trace exactly; Belady's oracle never copies more than LRU;
 * with a perfect predictor the ExpertFlow cache never misses once the slots hold a step's experts;
 * the lookahead source runs the predictor once per token for the scheduler and the advisor.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lookaheadSource, type RouteSource } from '../../src/moe/expertflow/advisor.ts';
import { simulateCache } from '../../src/moe/expertflow/cacheSim.ts';
import {
  activatedExperts,
  hamming,
  routeSet,
  scheduleBatches,
} from '../../src/moe/expertflow/scheduler.ts';
import type { RouteExamples } from '../../src/moe/predictor/routeMetrics.ts';
import { uniformGenerator } from '../../src/spectral/random.ts';

/** All ways to split items 0..n-1 into groups of `size` (n = 2 size here). */
function bestSplit(sets: Uint32Array[], size: number): number {
  let best = Infinity;
  const n = sets.length;
  for (let mask = 0; mask < 1 << n; mask++) {
    let ones = 0;
    for (let i = 0; i < n; i++) ones += (mask >> i) & 1;
    if (ones !== size || (mask & 1) === 0) continue;
    const a = [...Array(n).keys()].filter((i) => (mask >> i) & 1);
    const b = [...Array(n).keys()].filter((i) => !((mask >> i) & 1));
    best = Math.min(best, activatedExperts(sets, [a, b]));
  }
  return best;
}

function randomTrace(
  seed: number,
  sequences: number,
  L: number,
  E: number,
  K: number,
): RouteExamples {
  const uniform = uniformGenerator(seed);
  const data: RouteExamples = { numExperts: E, topK: K, moeLayers: L, sequences: [] };
  for (let s = 0; s < sequences; s++) {
    const length = 12;
    const experts = new Uint16Array(length * L * K);
    for (let i = 0; i < length * L; i++) {
      // Skewed, distinct choices so caching matters.
      const picks = new Set<number>();
      while (picks.size < K) picks.add(Math.floor(E * uniform() ** 2));
      experts.set([...picks], i * K);
    }
    data.sequences.push({
      tokens: new Array(length).fill(1),
      promptLength: 3,
      experts,
      domain: 'r',
    });
  }
  return data;
}

/** Predictions equal to the truth (probability 1 on each true expert). */
function perfectPredictions(data: RouteExamples): Float32Array[][] {
  const { moeLayers: L, numExperts: E, topK: K } = data;
  return data.sequences.map((s) =>
    s.tokens.map((_, t) => {
      const p = new Float32Array(L * E);
      for (let l = 0; l < L; l++)
        for (let j = 0; j < K; j++) p[l * E + s.experts[(t * L + l) * K + j]!] = 1;
      return p;
    }),
  );
}

describe('token scheduler', () => {
  it('finds the optimal split of two clear clusters given interleaved', () => {
    const a = routeSet(16, [0, 1, 2, 3]);
    const b = routeSet(16, [8, 9, 10, 11]);
    const sets = [a, b, a, b, a, b].map((x, i) => {
      const y = x.slice();
      y[0]! ^= 1 << (4 + (i % 3)); // small per-item noise
      return y;
    });
    assert.equal(hamming(sets[0]!, sets[2]!), 2);
    const groups = scheduleBatches(sets, 3);
    assert.equal(activatedExperts(sets, groups), bestSplit(sets, 3));
    assert.deepEqual(
      groups.map((g) => g.map((i) => i % 2)),
      [
        [0, 0, 0],
        [1, 1, 1],
      ],
    );
  });

  it('never activates more experts than the sequential grouping, and is near the optimum', () => {
    const uniform = uniformGenerator(4);
    let gap = 0;
    for (let trial = 0; trial < 30; trial++) {
      const sets = Array.from({ length: 8 }, () =>
        routeSet(
          32,
          Array.from({ length: 6 }, () => Math.floor(32 * uniform() ** 2)),
        ),
      );
      const groups = scheduleBatches(sets, 4);
      assert.deepEqual(
        groups.flat().sort((x, y) => x - y),
        [...Array(8).keys()],
      );
      assert.ok(groups.every((g) => g.length === 4));
      const sequential = activatedExperts(sets, [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
      ]);
      const got = activatedExperts(sets, groups);
      assert.ok(got <= sequential);
      gap += got - bestSplit(sets, 4);
    }
    assert.ok(gap / 30 < 1, `mean excess over the optimum ${gap / 30} experts`);
  });
});

describe('lookahead route source', () => {
  it('predicts each token once for the scheduler and the advisor, in order per slot', () => {
    const calls: string[] = [];
    const lengths = new Map<number, number>();
    const base: RouteSource = {
      next(slot, token) {
        const at = lengths.get(slot) ?? 0;
        lengths.set(slot, at + 1);
        calls.push(`${slot}:${token}`);
        return Float32Array.of(slot, token, at);
      },
      reset: (slot) => lengths.delete(slot),
    };
    const shared = lookaheadSource(base);
    const early = [shared.ahead(0, 7), shared.ahead(1, 7), shared.ahead(0, 8)];
    assert.equal(shared.next(1, 7), early[1]);
    assert.equal(shared.next(0, 7), early[0]);
    assert.equal(shared.next(0, 8), early[2]);
    assert.deepEqual(
      Array.from(shared.next(0, 9)),
      [0, 9, 2],
      'nothing pending: the source predicts',
    );
    assert.deepEqual(calls, ['0:7', '1:7', '0:8', '0:9'], 'one prediction per token');
    shared.ahead(1, 3);
    assert.throws(() => shared.next(1, 4), /fed token 4, but its next token was predicted as 3/);
    shared.ahead(1, 5);
    shared.reset(1);
    assert.deepEqual(
      Array.from(shared.next(1, 6)),
      [1, 6, 0],
      'reset drops what was predicted ahead',
    );
  });
});

describe('cache simulation', () => {
  it('replays LRU exactly on a hand-counted trace', () => {
    // One layer, 4 experts, top-1, one sequence: prompt [0], decode routes 1, 0, 2, 1 with 2 slots.
    const data: RouteExamples = {
      numExperts: 4,
      topK: 1,
      moeLayers: 1,
      sequences: [
        {
          tokens: [5, 5, 5, 5, 5],
          promptLength: 1,
          experts: Uint16Array.from([0, 1, 0, 2, 1]),
          domain: 'x',
        },
      ],
    };
    const r = simulateCache({ data, batch: 1, slotsPerLayer: 2, policy: 'lru' });
    // After the prompt {0}: 1 miss, 0 hit, 2 miss (evicts 1, LRU), 1 miss.
    assert.equal(r.accesses, 4);
    assert.equal(r.hits, 1);
    assert.equal(r.onDemandLoads, 3);
    const oracle = simulateCache({ data, batch: 1, slotsPerLayer: 2, policy: 'oracle' });
    // Belady evicts 0 (never used again) for 2, so 1 stays: 2 misses.
    assert.equal(oracle.onDemandLoads, 2);
  });

  it('Belady never copies more than LRU; a perfect predictor never misses with enough slots', () => {
    for (const seed of [1, 2, 3]) {
      const data = randomTrace(seed, 8, 3, 8, 2);
      const predicted = perfectPredictions(data);
      for (const batch of [1, 2, 4])
        for (const slots of [2, 4, 6]) {
          const lru = simulateCache({ data, batch, slotsPerLayer: slots, policy: 'lru' });
          const oracle = simulateCache({ data, batch, slotsPerLayer: slots, policy: 'oracle' });
          assert.ok(oracle.loads <= lru.loads, `seed ${seed} batch ${batch} slots ${slots}`);
          const ef = simulateCache({
            data,
            batch,
            slotsPerLayer: slots,
            policy: 'expertflow',
            predicted,
            horizon: 'online',
          });
          if (slots >= 2 * batch)
            assert.equal(ef.onDemandLoads, 0, `batch ${batch} slots ${slots}`);
          assert.equal(ef.accesses, lru.accesses);
          const scheduled = simulateCache({
            data,
            batch,
            slotsPerLayer: slots,
            policy: 'expertflow',
            predicted,
            schedule: true,
          });
          assert.ok(scheduled.activePerLayer <= ef.activePerLayer + 1e-9);
        }
    }
  });
});

describe('cache simulation, one pool shared by all layers', () => {
  it('misses as Belady does on a cyclic pattern (plain LRU would miss every access)', () => {
    // 3 layers, each routes every token to its expert 0: a cycle of 3 experts through the pool.
    const n = 9;
    const data: RouteExamples = {
      numExperts: 2,
      topK: 1,
      moeLayers: 3,
      sequences: [
        {
          tokens: new Array<number>(n).fill(5),
          promptLength: 1,
          experts: new Uint16Array(3 * n),
          domain: 'x',
        },
      ],
    };
    const misses = [1, 2, 3].map(
      (sharedSlots) =>
        simulateCache({ data, batch: 1, slotsPerLayer: 1, sharedSlots, policy: 'lru' })
          .onDemandLoads,
    );
    // 8 decode steps x 3 layers: 1 slot misses all 24, 2 slots half (MIN for a cycle of 3), 3 none.
    assert.deepEqual(misses, [24, 12, 0]);
  });

  it('a pool of k slots per layer, run in fair-share waves, equals k slots per layer', () => {
    const data = randomTrace(5, 8, 3, 8, 2);
    const predicted = perfectPredictions(data);
    for (const batch of [1, 4])
      for (const k of [1, 2, 3])
        for (const policy of ['lru', 'oracle', 'expertflow'] as const) {
          const common = { data, batch, policy, predicted, slotsPerLayer: k };
          const perLayer = simulateCache(common);
          const pooled = simulateCache({ ...common, sharedSlots: k * data.moeLayers });
          const pick = (r: typeof perLayer) => [r.hits, r.onDemandLoads, r.prefetchLoads];
          assert.deepEqual(pick(pooled), pick(perLayer), `${policy} batch ${batch} k ${k}`);
        }
  });

  it('a perfect predictor prefetches the misses away; every policy sees the same routes', () => {
    const data = randomTrace(4, 8, 3, 8, 2);
    const predicted = perfectPredictions(data);
    for (const batch of [1, 4]) {
      const common = { data, batch, slotsPerLayer: 1, sharedSlots: 8 };
      const lru = simulateCache({ ...common, policy: 'lru' });
      const ef = simulateCache({ ...common, policy: 'expertflow', predicted, horizon: 'online' });
      assert.equal(ef.sharedSlots, 8);
      assert.equal(ef.accesses, lru.accesses);
      assert.ok(ef.hitRatio > lru.hitRatio, `batch ${batch}: ${ef.hitRatio} vs ${lru.hitRatio}`);
      if (batch === 1) assert.equal(ef.onDemandLoads, 0);
    }
  });
});

describe('expertflow policy', () => {
  it('refuses to open a model without a predictor, naming the flag', async () => {
    const { openModel } = await import('../../src/moe/open.ts');
    await assert.rejects(
      openModel({
        model: 'no-such-dir',
        device: 'wasm',
        policy: 'expertflow',
        maxSequences: 1,
        maxContext: 16,
      }),
      /--policy expertflow needs --predictor/,
    );
  });
});
