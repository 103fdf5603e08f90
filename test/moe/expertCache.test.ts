// The offloading policies' bookkeeping: LRU eviction order, pinned experts never evicted, prefetch
// hits counted only when used, and slot counts from budgets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpertCache, parseBytes, slotsPerLayer } from '../../src/moe/expertCache.ts';

describe('expert cache', () => {
  it('evicts the least recently used unpinned expert of the layer', () => {
    const cache = new ExpertCache(2, 8, 2);
    const none = new Set<number>();
    assert.deepEqual(cache.acquire(0, 3, none), { slot: 0, load: true });
    assert.deepEqual(cache.acquire(0, 5, none), { slot: 1, load: true });
    assert.deepEqual(cache.acquire(0, 3, none), { slot: 0, load: false });
    // 5 is older than 3 now: it goes.
    assert.deepEqual(cache.acquire(0, 6, none), { slot: 1, load: true });
    // 3 is the least recently used but pinned by this step: the newer 6 goes instead.
    assert.deepEqual(cache.acquire(0, 7, new Set([3, 7])), { slot: 1, load: true });
    assert.deepEqual([...cache.resident(0)], [3, 7]);
    assert.deepEqual([...cache.resident(1)], [-1, -1]);
    assert.equal(cache.hits, 1);
    assert.equal(cache.misses, 4);
    assert.throws(() => cache.acquire(0, 1, new Set([3, 7, 1])), /all 2 expert slots are pinned/);
  });

  it('evicts the expert of least predicted need when a need is given (LRU breaks ties)', () => {
    const cache = new ExpertCache(1, 8, 3);
    const none = new Set<number>();
    for (const e of [1, 2, 3]) cache.acquire(0, e, none);
    // 1 is least recently used, but the predictor still needs it; 3 (newest) is needed least.
    const need = (e: number) => ({ 1: 5, 2: 2, 3: 0 })[e] ?? 0;
    assert.deepEqual(cache.acquire(0, 4, new Set([4]), need), { slot: 2, load: true });
    // Equal need: the least recently used goes (1).
    assert.deepEqual(
      cache.acquire(0, 5, new Set([5]), () => 0),
      { slot: 0, load: true },
    );
    assert.deepEqual([...cache.resident(0)], [5, 2, 4]);
  });

  it('prefetches predicted experts only into slots holding none of them', () => {
    const cache = new ExpertCache(1, 8, 3);
    for (const e of [1, 2, 3]) cache.acquire(0, e, new Set());
    // 2 is predicted and resident: it stays; 1 and 3 make room for 5, then 6; 7 finds no slot.
    const loaded = cache.prefetchPredicted(0, [2, 5, 6, 7], new Set([2, 5, 6, 7]));
    assert.deepEqual(
      loaded.map((l) => l.expert),
      [5, 6],
    );
    assert.deepEqual([...cache.resident(0)].sort(), [2, 5, 6]);
    assert.equal(cache.prefetches, 2);
  });

  it('prefetches count as hits only when the router uses them', () => {
    const cache = new ExpertCache(1, 8, 3);
    assert.ok(cache.prefetch(0, 2, new Set()));
    assert.ok(cache.prefetch(0, 4, new Set()));
    assert.equal(cache.prefetch(0, 2, new Set()), null, 'already resident');
    assert.equal(cache.acquire(0, 2, new Set([2])).load, false);
    assert.equal(cache.acquire(0, 1, new Set([1])).load, true);
    assert.equal(cache.prefetches, 2);
    assert.equal(cache.prefetchUsed, 1);
    assert.equal(cache.hitRatio(), 0.5);
  });

  it('slots per layer from a budget or a count', () => {
    const base = { experts: 8, moeLayers: 4, expertBytes: 100 };
    assert.equal(slotsPerLayer({ ...base, policy: 'all-gpu' }), 8);
    assert.equal(slotsPerLayer({ ...base, policy: 'lru', expertsPerLayer: 2 }), 2);
    assert.equal(slotsPerLayer({ ...base, policy: 'lru', budgetBytes: 1250 }), 3);
    assert.throws(
      () => slotsPerLayer({ ...base, policy: 'lru', budgetBytes: 300 }),
      /holds no expert/,
    );
    assert.throws(
      () => slotsPerLayer({ ...base, policy: 'lookahead' }),
      /needs --gpu-experts-per-layer/,
    );
    assert.equal(parseBytes('2GiB'), 2 * 2 ** 30);
    assert.equal(parseBytes('1.5GB'), 1.5e9);
    assert.equal(parseBytes('4096'), 4096);
    assert.throws(() => parseBytes('2 parsecs'), /not a byte size/);
  });
});
