/**
 * What every MoE engine (the plain-TS CPU reference and the WGSL engine) offers the generation
 * loop, the CLI and the benchmarks: sequences in KV-cache slots, a step that runs any mix of
 * prefill and decode tokens for several sequences at once, and counters of what the step cost.
 */
import type { MoeSpec } from './config.ts';

export interface StepEntry {
  /** KV-cache slot of the sequence (0 .. maxSequences-1). */
  slot: number;
  /** New tokens of that sequence, appended after its cached positions. */
  tokens: number[];
}

/** The experts chosen for one token at one MoE layer, with their mixing weights. */
export interface TokenRoute {
  experts: number[];
  weights: number[];
}

/** Which sequence slot and cache position a routed token is at. */
export interface TokenPlace {
  slot: number;
  position: number;
}

export interface RouteObserver {
  /**
   * Called per MoE layer with the routes of tokens of the step, in entry order, and where each
   * token sits (an engine may split a long step into several calls per layer).
   */
  (layer: number, routes: TokenRoute[], places: TokenPlace[]): void;
}

export interface EngineCounters {
  expertHits: number;
  expertMisses: number;
  bytesMoved: number;
  /** Wall-clock milliseconds spent waiting for expert loads (GPU engine), per MoE layer. */
  stallMs: number[];
  /** GPU memory the engine holds (weights, expert slots, KV cache, scratch); 0 on the CPU. */
  gpuBytes: number;
  /** The part of gpuBytes held by routed-expert slots. */
  expertGpuBytes: number;
}

export interface MoeEngine {
  readonly spec: MoeSpec;
  readonly maxSequences: number;
  readonly maxPositions: number;
  /** Positions already cached in `slot`. */
  length(slot: number): number;
  /** Forgets a slot's cache (it can be reused by a new sequence). */
  reset(slot: number): void;
  /** Runs the entries; returns the logits of each entry's last token. */
  step(entries: StepEntry[], observe?: RouteObserver): Promise<Float32Array[]>;
  counters(): EngineCounters;
  close(): Promise<void>;
}

/** A step the engine cannot run as asked (bad slot, token id or length): the caller's to fix. */
export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

export class SequenceTooLongError extends Error {
  constructor(slot: number, needed: number, limit: number) {
    super(
      `sequence in slot ${slot} needs ${needed} positions but the KV cache holds ${limit}: ` +
        'shorten the prompt or --max-tokens, or raise --max-context',
    );
    this.name = 'SequenceTooLongError';
  }
}

/** Validates a step against the slots, lengths and vocabulary (shared by both engines). */
export function checkStep(engine: MoeEngine, entries: StepEntry[]): void {
  const seen = new Set<number>();
  for (const { slot, tokens } of entries) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= engine.maxSequences) {
      throw new InvalidRequestError(`slot ${slot} is outside 0..${engine.maxSequences - 1}`);
    }
    if (seen.has(slot)) throw new InvalidRequestError(`slot ${slot} appears twice in one step`);
    seen.add(slot);
    if (tokens.length === 0)
      throw new InvalidRequestError(`slot ${slot}: a step needs at least one token`);
    const needed = engine.length(slot) + tokens.length;
    if (needed > engine.maxPositions)
      throw new SequenceTooLongError(slot, needed, engine.maxPositions);
    checkTokenIds(tokens, engine.spec.vocab);
  }
}

/** Every id must index the vocabulary (InvalidRequestError naming the first that does not). */
export function checkTokenIds(tokens: readonly number[], vocab: number): void {
  for (const t of tokens) {
    if (!Number.isInteger(t) || t < 0 || t >= vocab) {
      throw new InvalidRequestError(`token id ${t} is outside the vocabulary 0..${vocab - 1}`);
    }
  }
}

/** Softmax (f32 inputs, f64 arithmetic) -> top-k by probability (ties: lower index) -> optional renormalisation. */
export function routeToken(
  logits: ArrayLike<number>,
  topK: number,
  normalize: boolean,
): TokenRoute {
  let max = -Infinity;
  for (let e = 0; e < logits.length; e++) max = Math.max(max, logits[e]!);
  const probs = Array.from({ length: logits.length }, (_, e) => Math.exp(logits[e]! - max));
  const total = probs.reduce((a, b) => a + b, 0);
  const order = probs.map((p, e) => ({ p: p / total, e }));
  order.sort((a, b) => b.p - a.p || a.e - b.e);
  const chosen = order.slice(0, topK);
  const sum = chosen.reduce((a, c) => a + c.p, 0);
  return {
    experts: chosen.map((c) => c.e),
    weights: chosen.map((c) => (normalize ? c.p / sum : c.p)),
  };
}
