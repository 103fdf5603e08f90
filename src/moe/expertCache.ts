/**
 * Which routed experts occupy the GPU's expert slots: the bookkeeping of the offloading policies,
 * kept free of GPU calls so it is tested directly. Each MoE layer owns `slotsPerLayer` slots (as
 * mixtral-offloading and ExpertFlow's released cache do); a slot holds one expert's three matrices.
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
  /** slots[layer][slot] = expert id or -1. */
  readonly #slots: number[][];
  /** lastUse[layer][slot]: tick of the last use, for LRU. */
  readonly #lastUse: number[][];
  #tick = 0;
  hits = 0;
  misses = 0;
  prefetches = 0;
  /** Prefetched experts the router later used / never used before eviction. */
  prefetchUsed = 0;
  readonly #prefetched: Set<string> = new Set();

  constructor(
    readonly layers: number,
    readonly experts: number,
    readonly slotsPerLayer: number,
  ) {
    if (slotsPerLayer < 1) throw new Error('the expert cache needs at least one slot per layer');
    this.#slots = Array.from({ length: layers }, () => new Array<number>(slotsPerLayer).fill(-1));
    this.#lastUse = Array.from({ length: layers }, () => new Array<number>(slotsPerLayer).fill(-1));
  }

  slotOf(layer: number, expert: number): number {
    return this.#slots[layer]!.indexOf(expert);
  }

  /** Experts resident in a layer's slots, by slot (-1 = empty). */
  resident(layer: number): readonly number[] {
    return this.#slots[layer]!;
  }

  #place(layer: number, expert: number, pinned: ReadonlySet<number>, need?: Need): number {
    const slots = this.#slots[layer]!;
    let victim = slots.indexOf(-1);
    if (victim < 0) {
      let best = [Infinity, Infinity];
      slots.forEach((e, s) => {
        if (pinned.has(e)) return;
        const key = [need ? need(e) : 0, this.#lastUse[layer]![s]!];
        if (key[0]! < best[0]! || (key[0] === best[0] && key[1]! < best[1]!)) {
          best = key;
          victim = s;
        }
      });
    }
    if (victim < 0) {
      throw new Error(`layer ${layer}: all ${slots.length} expert slots are pinned by this step`);
    }
    this.#prefetched.delete(`${layer}:${slots[victim]}`);
    slots[victim] = expert;
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
      if (this.#prefetched.delete(`${layer}:${expert}`)) this.prefetchUsed++;
    }
    this.#lastUse[layer]![slot] = this.#tick;
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
    const free = this.#slots[layer]!.some((e) => !pinned.has(e));
    if (!free) return null;
    this.#tick++;
    const slot = this.#place(layer, expert, pinned, need);
    this.#lastUse[layer]![slot] = this.#tick;
    this.#prefetched.add(`${layer}:${expert}`);
    this.prefetches++;
    return { slot, load: true };
  }

  /**
   * Prefetches `candidates` in order into slots holding none of `keep` (the experts a step is
   * predicted to need: a resident one is already a hit and must not make room for another), until
   * no such slot is left. Returns the experts copied in and their slots.
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

/** Slots per layer from a byte budget or an explicit count (all-gpu: every expert). */
export function slotsPerLayer(options: {
  policy: Policy;
  experts: number;
  moeLayers: number;
  expertBytes: number;
  expertsPerLayer?: number | undefined;
  budgetBytes?: number | undefined;
}): number {
  if (options.policy === 'all-gpu') return options.experts;
  if (options.expertsPerLayer !== undefined)
    return Math.min(options.experts, options.expertsPerLayer);
  if (options.budgetBytes !== undefined) {
    const slots = Math.floor(options.budgetBytes / options.expertBytes / options.moeLayers);
    if (slots < 1) {
      throw new Error(
        `a GPU expert budget of ${options.budgetBytes} bytes holds no expert per layer ` +
          `(one expert is ${options.expertBytes} bytes, ${options.moeLayers} MoE layers)`,
      );
    }
    return Math.min(options.experts, slots);
  }
  throw new Error(
    `policy '${options.policy}' needs --gpu-experts-per-layer or --gpu-expert-budget`,
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
