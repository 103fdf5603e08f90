/**
 * Which routed experts occupy the GPU's expert slots: the bookkeeping of the offloading policies,
 * kept free of GPU calls so it is tested directly. Each MoE layer owns its slots (as
 * mixtral-offloading and ExpertFlow's released cache do), or all layers share one pool (for GPUs
 * that cannot hold an expert per layer); a slot holds one expert's three matrices.
 *
 * - `all-gpu`: every expert has its own slot, loaded once.
 * - `lru`: on demand; a miss evicts the least recently used expert of the layer that the current
 *   step does not need (`pinned`).
 * - `lookahead` (Pre-gated MoE): `lru` plus prefetches of layer l+1's predicted experts issued at
 *   layer l; a prefetched expert counts as a hit only if the router then really picks it.
 * - `expertflow`: a routing-path predictor's advice (src/moe/expertflow/advisor.ts) prefetches
 *   each layer's predicted experts before the step and passes `need`: a victim is the unpinned
 *   expert with the least predicted need, LRU breaking ties.
 *
 * The router always decides which experts run, so the policy changes only time and bytes moved,
 * never the tokens.
 */

export const POLICIES = ['all-gpu', 'lru', 'lookahead', 'expertflow'] as const;
export type Policy = (typeof POLICIES)[number];

/** Expected need of a resident expert (higher = keep); the lowest is evicted first. */
export type Need = (expert: number) => number;

export interface Acquired {
  slot: number;
  /** True when the expert had to be copied in (the caller issues the copy). */
  load: boolean;
}

export class ExpertCache {
  /** keys[group][slot] = layer * experts + expert, or -1 (empty); one group per layer, or one pool. */
  readonly #keys: number[][];
  /** lastUse[group][slot]: tick of the last use, for LRU. */
  readonly #lastUse: number[][];
  #tick = 0;
  hits = 0;
  misses = 0;
  prefetches = 0;
  /** Prefetched experts the router later used / never used before eviction. */
  prefetchUsed = 0;
  readonly #prefetched: Set<number> = new Set();

  /**
   * `slots` per MoE layer, or (`shared`) one pool of `slots` that every layer's experts compete
   * for. In a pool the victim is the unpinned expert whose layer's next turn is furthest away in
   * layer order, counting this layer's own unpinned experts as a whole cycle away (Belady's rule
   * for a model that runs its layers in a cycle), then the least needed (this layer only), then
   * the least recently used. With the waves of `capacity` this gives exactly the per-layer LRU
   * when the pool is a multiple of the layers, and still works with fewer slots than layers.
   */
  constructor(
    readonly layers: number,
    readonly experts: number,
    /** Slots per layer, or in the pool. */
    readonly slots: number,
    readonly shared = false,
  ) {
    if (slots < 1) throw new Error('the expert cache needs at least one slot per layer');
    this.capacity = shared ? Math.ceil(slots / layers) : slots;
    const groups = shared ? 1 : layers;
    this.#keys = Array.from({ length: groups }, () => new Array<number>(slots).fill(-1));
    this.#lastUse = Array.from({ length: groups }, () => new Array<number>(slots).fill(-1));
  }

  /**
   * Experts one layer loads and runs at once (its waves): its own slots, or its share of a pool
   * (rounded up).
   * A wider wave in a pool would evict the other layers' experts, which are needed sooner than
   * this layer's own (already run) ones.
   */
  readonly capacity: number;

  #group(layer: number): number {
    return this.shared ? 0 : layer;
  }

  slotOf(layer: number, expert: number): number {
    return this.#keys[this.#group(layer)]!.indexOf(layer * this.experts + expert);
  }

  /** A layer's experts by slot of its group (-1 = empty or another layer's). */
  resident(layer: number): number[] {
    const E = this.experts;
    return this.#keys[this.#group(layer)]!.map((k) =>
      k >= 0 && Math.floor(k / E) === layer ? k % E : -1,
    );
  }

  /** Whether the slot may be given to `layer` now (not an expert this step has pinned). */
  #evictable(layer: number, key: number, pinned: ReadonlySet<number>): boolean {
    return key < 0 || Math.floor(key / this.experts) !== layer || !pinned.has(key % this.experts);
  }

  #place(layer: number, expert: number, pinned: ReadonlySet<number>, need?: Need): number {
    const g = this.#group(layer);
    const keys = this.#keys[g]!;
    const E = this.experts;
    const L = this.layers;
    // A free slot goes first while the layer holds less than its share; after that it ranks just
    // below the layer's own experts (so a pool's spare slots still fill up).
    const held = keys.filter((k) => k >= 0 && Math.floor(k / E) === layer).length;
    const freeTurns = held < this.capacity ? L + 1 : L - 0.5;
    let victim = -1;
    let best = [Infinity, Infinity, Infinity];
    keys.forEach((k, s) => {
      if (!this.#evictable(layer, k, pinned)) return;
      const owner = Math.floor(k / E);
      // Turns until the owner runs again; this layer's unpinned experts have run (or are not
      // needed) this step, so their next use is a whole cycle away.
      const turns = k < 0 ? freeTurns : owner === layer ? L : (owner - layer + L) % L;
      const key = [
        -turns,
        k >= 0 && owner === layer && need ? need(k % E) : 0,
        this.#lastUse[g]![s]!,
      ];
      const better = key.findIndex((v, i) => v !== best[i]);
      if (better >= 0 && key[better]! < best[better]!) {
        best = key;
        victim = s;
      }
    });
    if (victim < 0) {
      throw new Error(`layer ${layer}: all ${keys.length} expert slots are pinned by this step`);
    }
    this.#prefetched.delete(keys[victim]!);
    keys[victim] = layer * E + expert;
    return victim;
  }

  /** An expert the router chose: a hit if resident, else a slot to load into. */
  acquire(layer: number, expert: number, pinned: ReadonlySet<number>, need?: Need): Acquired {
    this.#tick++;
    let slot = this.slotOf(layer, expert);
    const load = slot < 0;
    if (load) {
      this.misses++;
      slot = this.#place(layer, expert, pinned, need);
    } else {
      this.hits++;
      if (this.#prefetched.delete(layer * this.experts + expert)) this.prefetchUsed++;
    }
    this.#lastUse[this.#group(layer)]![slot] = this.#tick;
    return { slot, load };
  }

  /** A predicted expert: loaded ahead of need unless resident (or the layer is full of pinned ones). */
  prefetch(
    layer: number,
    expert: number,
    pinned: ReadonlySet<number>,
    need?: Need,
  ): Acquired | null {
    const resident = this.slotOf(layer, expert);
    if (resident >= 0) return null;
    const keys = this.#keys[this.#group(layer)]!;
    if (!keys.some((k) => this.#evictable(layer, k, pinned))) return null;
    this.#tick++;
    const slot = this.#place(layer, expert, pinned, need);
    this.#lastUse[this.#group(layer)]![slot] = this.#tick;
    this.#prefetched.add(layer * this.experts + expert);
    this.prefetches++;
    return { slot, load: true };
  }

  /**
   * Prefetches `candidates` in order into slots holding none of `keep` (the experts a step is
   * predicted to need: a resident one is already a hit and must not make room for another), until
   * the layer holds `capacity` of them or no such slot is left. Returns the experts copied in and their slots.
   */
  prefetchPredicted(
    layer: number,
    candidates: Iterable<number>,
    keep: ReadonlySet<number>,
    need?: Need,
  ): { expert: number; slot: number }[] {
    const pinned = new Set(this.resident(layer).filter((e) => keep.has(e)));
    const loaded: { expert: number; slot: number }[] = [];
    for (const expert of candidates) {
      if (pinned.has(expert)) continue;
      if (pinned.size >= this.capacity) break;
      pinned.add(expert);
      const got = this.prefetch(layer, expert, pinned, need);
      if (!got) break;
      loaded.push({ expert, slot: got.slot });
    }
    return loaded;
  }

  hitRatio(): number {
    const total = this.hits + this.misses;
    return total === 0 ? 1 : this.hits / total;
  }
}

export interface CacheLayout {
  /** Slots per MoE layer, or (shared) in the one pool all layers use. */
  slots: number;
  shared: boolean;
}

/**
 * The GPU expert slots: all-gpu gives every expert its own; `expertsPerLayer` or a byte budget
 * that holds at least one expert per MoE layer gives each layer its own slots; `sharedSlots`, or a
 * budget below one expert per layer, gives one pool shared by all layers.
 */
export function cacheLayout(options: {
  policy: Policy;
  experts: number;
  moeLayers: number;
  expertBytes: number;
  expertsPerLayer?: number | undefined;
  sharedSlots?: number | undefined;
  budgetBytes?: number | undefined;
}): CacheLayout {
  const { experts, moeLayers } = options;
  const pool = (slots: number): CacheLayout => ({
    slots: Math.min(slots, experts * moeLayers),
    shared: true,
  });
  if (options.policy === 'all-gpu') return { slots: experts, shared: false };
  const given = [options.expertsPerLayer, options.sharedSlots, options.budgetBytes];
  if (given.filter((v) => v !== undefined).length > 1) {
    throw new Error(
      'give one of --gpu-experts-per-layer, --gpu-expert-slots and --gpu-expert-budget',
    );
  }
  if (options.expertsPerLayer !== undefined)
    return { slots: Math.min(experts, options.expertsPerLayer), shared: false };
  if (options.sharedSlots !== undefined) return pool(options.sharedSlots);
  if (options.budgetBytes !== undefined) {
    const total = Math.floor(options.budgetBytes / options.expertBytes);
    if (total < 1) {
      throw new Error(
        `a GPU expert budget of ${options.budgetBytes} bytes holds no expert ` +
          `(one expert is ${options.expertBytes} bytes): raise --gpu-expert-budget`,
      );
    }
    const perLayer = Math.floor(total / moeLayers);
    return perLayer >= 1 ? { slots: Math.min(experts, perLayer), shared: false } : pool(total);
  }
  throw new Error(
    `policy '${options.policy}' needs --gpu-experts-per-layer, --gpu-expert-slots or --gpu-expert-budget`,
  );
}

/** Parses a byte size such as `2GiB`, `512MiB`, `1.5GB` or `123456`. */
export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$/i.exec(text);
  if (!match) throw new Error(`'${text}' is not a byte size (e.g. 2GiB, 512MiB, 1000000)`);
  const unit = (match[2] ?? '').toLowerCase().replace(/b$/, '');
  const powers: Record<string, number> = {
    '': 1,
    k: 1e3,
    m: 1e6,
    g: 1e9,
    t: 1e12,
    ki: 2 ** 10,
    mi: 2 ** 20,
    gi: 2 ** 30,
    ti: 2 ** 40,
  };
  const factor = powers[unit];
  if (factor === undefined)
    throw new Error(`'${text}': unknown unit (use KiB, MiB, GiB, KB, MB, GB)`);
  return Math.floor(Number(match[1]) * factor);
}
