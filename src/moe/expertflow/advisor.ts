/**
 * What the GPU engine's `expertflow` policy asks before and during a step: which experts to copy in
 * ahead of the router (prefetch) and how much each resident expert is still needed (eviction).
 * Route probabilities come from a `RouteSource`: the routing-path predictor run on the host one
 * token at a time (online), or a trace's true routes (the oracle bound of trace-replay benchmarks).
 * The advice changes only which copies happen when; the router still decides every route, so
 * outputs stay identical to `all-gpu`.
 */
import type { Need } from '../expertCache.ts';
import type { PredictorSession, RoutePredictor } from '../predictor/predictorInfer.ts';
import { topIndices } from '../predictor/routeMetrics.ts';

export interface StepPlan {
  /** Experts (of decoder layer `layer`) predicted for this step, most needed first. */
  prefetch(layer: number): number[];
  /** Predicted need of a resident expert of decoder layer `layer` (higher = keep). */
  need(layer: number): Need;
}

export interface RouteAdvisor {
  /** Called with the tokens of a forward chunk before its first layer runs. */
  plan(chunk: { slot: number; tokens: number[] }[]): StepPlan;
  /** A slot starts a new sequence. */
  reset(slot: number): void;
  /** Host milliseconds spent predicting so far. */
  readonly hostMs: number;
}

/** Per token, probabilities [L*E] over (MoE layer, expert), fed in order per slot. */
export interface RouteSource {
  next(slot: number, token: number): ArrayLike<number>;
  reset(slot: number): void;
}

export function predictorSource(predictor: RoutePredictor): RouteSource {
  const sessions = new Map<number, PredictorSession>();
  return {
    next(slot, token) {
      let session = sessions.get(slot);
      if (!session) sessions.set(slot, (session = predictor.session()));
      return session.push(token);
    },
    reset: (slot) => sessions.delete(slot),
  };
}

/** A source whose next token per slot can be predicted early, once, for two consumers. */
export interface LookaheadSource extends RouteSource {
  /**
   * Predicts slot's next token now (the token scheduler, before it groups the step's batches);
   * the advisor's `next` for that token then returns the same probabilities without a second
   * run of the predictor.
   */
  ahead(slot: number, token: number): ArrayLike<number>;
}

export function lookaheadSource(source: RouteSource): LookaheadSource {
  const pending = new Map<number, { token: number; p: ArrayLike<number> }[]>();
  return {
    ahead(slot, token) {
      const p = source.next(slot, token);
      const queue = pending.get(slot);
      if (queue) queue.push({ token, p });
      else pending.set(slot, [{ token, p }]);
      return p;
    },
    next(slot, token) {
      const early = pending.get(slot)?.shift();
      if (!early) return source.next(slot, token);
      if (early.token !== token)
        throw new Error(
          `slot ${slot} is fed token ${token}, but its next token was predicted as ${early.token}: feed the tokens that were passed to ahead(), in order`,
        );
      return early.p;
    },
    reset(slot) {
      pending.delete(slot);
      source.reset(slot);
    },
  };
}

export interface AdvisorOptions {
  /** Decoder index of each MoE layer (the source's layer order). */
  moeLayers: number[];
  experts: number;
  topK: number;
  /** Copy predicted experts in before the router runs (else: eviction advice only). */
  prefetch: boolean;
}

export function createAdvisor(source: RouteSource, o: AdvisorOptions): RouteAdvisor {
  const index = new Map(o.moeLayers.map((layer, i) => [layer, i]));
  const E = o.experts;
  let hostMs = 0;
  return {
    get hostMs() {
      return hostMs;
    },
    reset: (slot) => source.reset(slot),
    plan(chunk) {
      const started = performance.now();
      const L = o.moeLayers.length;
      const predicted = Array.from({ length: L }, () => new Set<number>());
      const mass = Array.from({ length: L }, () => new Float64Array(E));
      for (const { slot, tokens } of chunk)
        for (const token of tokens) {
          const p = source.next(slot, token);
          for (let l = 0; l < L; l++) {
            for (const e of topIndices(p, l * E, E, o.topK)) predicted[l]!.add(e);
            for (let e = 0; e < E; e++) mass[l]![e]! += p[l * E + e]!;
          }
        }
      hostMs += performance.now() - started;
      const at = (layer: number) => {
        const i = index.get(layer);
        if (i === undefined) throw new Error(`layer ${layer} is not a MoE layer`);
        return i;
      };
      return {
        prefetch(layer) {
          if (!o.prefetch) return [];
          const i = at(layer);
          return [...predicted[i]!].sort((a, b) => mass[i]![b]! - mass[i]![a]! || a - b);
        },
        need(layer) {
          const i = at(layer);
          return (e) => (predicted[i]!.has(e) ? 1e6 : 0) + mass[i]![e]!;
        },
      };
    },
  };
}
