// The offloading policies' bookkeeping: LRU eviction order, pinned experts never evicted, prefetch
// hits counted only when used, a pool shared by all layers evicting by layer turn, and slot
// layouts from budgets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheLayout, ExpertCache, parseBytes } from '../../src/moe/expertCache.ts';

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

  it('a shared pool evicts the expert whose layer runs again last (own experts: a cycle away)', () => {
    const cache = new ExpertCache(4, 8, 3, true);
    assert.equal(cache.capacity, 1, 'a wave is the share of the pool, rounded up');
    assert.equal(new ExpertCache(4, 8, 9, true).capacity, 3);
    assert.deepEqual(cache.acquire(0, 1, new Set([1])), { slot: 0, load: true });
    // Layer 0 holds its share: its own 1 has run, so it goes (the free slots are others' share).
    assert.deepEqual(cache.acquire(0, 2, new Set([2])), { slot: 0, load: true });
    assert.deepEqual(cache.acquire(1, 3, new Set([3])), { slot: 1, load: true });
    assert.deepEqual(cache.acquire(2, 4, new Set([4])), { slot: 2, load: true });
    // From layer 3, layer 2 runs again in 3 turns, layer 1 in 2, layer 0 in 1: layer 2's 4 goes.
    assert.deepEqual(cache.acquire(3, 5, new Set([5])), { slot: 2, load: true });
    assert.deepEqual(cache.resident(0), [2, -1, -1]);
    assert.deepEqual(cache.resident(2), [-1, -1, -1]);
    assert.deepEqual(cache.resident(3), [-1, -1, 5]);
    // Next step: layers 0 and 1 hit, with fewer slots than layers (plain LRU would evict the
    // oldest, the very expert needed next, and never hit on this cycle).
    assert.deepEqual(cache.acquire(0, 2, new Set([2])), { slot: 0, load: false });
    assert.deepEqual(cache.acquire(1, 3, new Set([3])), { slot: 1, load: false });
    // Spare slots of a pool that is no multiple of the layers still fill up.
    const spare = new ExpertCache(2, 8, 3, true);
    assert.equal(spare.capacity, 2);
    for (const [layer, expert] of [
      [0, 1],
      [0, 2],
      [1, 3],
    ] as const)
      spare.acquire(layer, expert, new Set([expert]));
    assert.deepEqual(spare.resident(0), [1, 2, -1]);
    assert.deepEqual(spare.resident(1), [-1, -1, 3]);
    // Only a layer's own pinned experts are safe; with every slot pinned, a clear error.
    const two = new ExpertCache(2, 8, 2, true);
    two.acquire(0, 1, new Set([1]));
    two.acquire(1, 2, new Set([2]));
    assert.deepEqual(two.acquire(1, 3, new Set([2, 3])), { slot: 0, load: true }, 'layer 0 goes');
    assert.deepEqual(two.resident(1), [3, 2]);
    assert.throws(() => two.acquire(1, 4, new Set([2, 3, 4])), /all 2 expert slots are pinned/);
    assert.equal(two.prefetch(1, 4, new Set([2, 3])), null, 'no slot a prefetch may take');
  });

  it('slot layouts from a budget or a count', () => {
    const base = { experts: 8, moeLayers: 4, expertBytes: 100 };
    const perLayer = (slots: number) => ({ slots, shared: false });
    assert.deepEqual(cacheLayout({ ...base, policy: 'all-gpu' }), perLayer(8));
    assert.deepEqual(cacheLayout({ ...base, policy: 'lru', expertsPerLayer: 2 }), perLayer(2));
    assert.deepEqual(cacheLayout({ ...base, policy: 'lru', budgetBytes: 1250 }), perLayer(3));
    // Below one expert per layer, a budget becomes one shared pool.
    assert.deepEqual(cacheLayout({ ...base, policy: 'lru', budgetBytes: 300 }), {
      slots: 3,
      shared: true,
    });
    assert.deepEqual(cacheLayout({ ...base, policy: 'expertflow', sharedSlots: 99 }), {
      slots: 32,
      shared: true,
    });
    assert.throws(
      () => cacheLayout({ ...base, policy: 'lru', budgetBytes: 99 }),
      /holds no expert .*raise --gpu-expert-budget/,
    );
    assert.throws(
      () => cacheLayout({ ...base, policy: 'lru', expertsPerLayer: 2, sharedSlots: 3 }),
      /give one of/,
    );
    assert.throws(
      () => cacheLayout({ ...base, policy: 'lookahead' }),
      /needs --gpu-experts-per-layer, --gpu-expert-slots or --gpu-expert-budget/,
    );
    assert.equal(parseBytes('2GiB'), 2 * 2 ** 30);
    assert.equal(parseBytes('1.5GB'), 1.5e9);
    assert.equal(parseBytes('4096'), 4096);
    assert.throws(() => parseBytes('2 parsecs'), /not a byte size/);
  });
});
