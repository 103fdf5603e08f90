/**
 * Token sampling and the generation loop shared by every engine, the CLI, the server and the
 * benchmarks. Sampling follows transformers' order: temperature, then top-k, then top-p (nucleus),
 * then a draw from a per-sequence seeded generator (greedy when temperature is 0), so a seed
 * reproduces a completion on any device. Several prompts run as one batch: one prefill step, then
 * one decode step per token for all sequences still going.
 */
import { uniformGenerator } from '../spectral/random.ts';
import type { MoeEngine, RouteObserver } from './engine.ts';

export interface SamplingOptions {
  /** 0 means greedy. */
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0, topP: 1, seed: 0 };

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Draws one token id from logits with the options (`uniform` in [0, 1)). */
export function sampleToken(
  logits: Float32Array,
  options: SamplingOptions,
  uniform: () => number,
): number {
  if (options.temperature <= 0) return argmax(logits);
  let candidates = Array.from(logits, (logit, id) => ({ id, logit: logit / options.temperature }));
  candidates.sort((a, b) => b.logit - a.logit || a.id - b.id);
  if (options.topK > 0) candidates = candidates.slice(0, options.topK);
  const max = candidates[0]!.logit;
  let probs = candidates.map((c) => Math.exp(c.logit - max));
  let total = probs.reduce((a, b) => a + b, 0);
  if (options.topP < 1) {
    let cumulative = 0;
    let keep = 0;
    while (keep < probs.length && cumulative < options.topP * total) cumulative += probs[keep++]!;
    candidates = candidates.slice(0, Math.max(1, keep));
    probs = probs.slice(0, candidates.length);
    total = probs.reduce((a, b) => a + b, 0);
  }
  let r = uniform() * total;
  for (let i = 0; i < probs.length; i++) {
    r -= probs[i]!;
    if (r < 0) return candidates[i]!.id;
  }
  return candidates[candidates.length - 1]!.id;
}

export interface GenerateRequest {
  prompt: number[];
  maxTokens: number;
  sampling?: SamplingOptions;
  /**
   * Teacher forcing: the i-th new token is forced[i] instead of a sampled one (routing traces of
   * real text, as ExpertFlow's benchmarks feed the dataset's continuation).
   */
  forced?: number[];
}

export interface GenerateResult {
  tokens: number[];
  finish: 'length' | 'stop';
}

export interface GenerateTiming {
  prefillMs: number;
  decodeMs: number;
  prefillTokens: number;
  decodeTokens: number;
}

/**
 * Generates for up to `engine.maxSequences` requests as one batch (slots 0..n-1, reset first).
 * `onToken` sees every new token as it is chosen (streaming).
 */
export async function generateBatch(
  engine: MoeEngine,
  requests: GenerateRequest[],
  options: {
    eos?: number[];
    observe?: RouteObserver;
    onToken?: (request: number, token: number) => void;
    shouldStop?: (request: number) => boolean;
  } = {},
): Promise<{ results: GenerateResult[]; timing: GenerateTiming }> {
  if (requests.length > engine.maxSequences) {
    throw new Error(
      `${requests.length} requests exceed the engine's ${engine.maxSequences} sequence slots`,
    );
  }
  requests.forEach((_, slot) => engine.reset(slot));
  const eos = new Set(options.eos ?? []);
  const uniforms = requests.map((r) => uniformGenerator(r.sampling?.seed ?? 0));
  const results: GenerateResult[] = requests.map(() => ({ tokens: [], finish: 'length' }));
  const active = new Set(requests.map((_, i) => i).filter((i) => requests[i]!.maxTokens > 0));
  const timing: GenerateTiming = { prefillMs: 0, decodeMs: 0, prefillTokens: 0, decodeTokens: 0 };
  let entries = [...active].map((slot) => ({ slot, tokens: requests[slot]!.prompt }));
  let prefill = true;
  while (entries.length > 0) {
    const started = performance.now();
    const logits = await engine.step(entries, options.observe);
    const elapsed = performance.now() - started;
    const stepTokens = entries.reduce((a, e) => a + e.tokens.length, 0);
    if (prefill) {
      timing.prefillMs += elapsed;
      timing.prefillTokens += stepTokens;
    } else {
      timing.decodeMs += elapsed;
      timing.decodeTokens += stepTokens;
    }
    prefill = false;
    const next: { slot: number; tokens: number[] }[] = [];
    entries.forEach(({ slot }, i) => {
      const request = requests[slot]!;
      const result = results[slot]!;
      const token =
        request.forced?.[result.tokens.length] ??
        sampleToken(logits[i]!, request.sampling ?? GREEDY, uniforms[slot]!);
      result.tokens.push(token);
      options.onToken?.(slot, token);
      if (eos.has(token)) result.finish = 'stop';
      const done =
        eos.has(token) ||
        result.tokens.length >= request.maxTokens ||
        options.shouldStop?.(slot) === true;
      if (!done) next.push({ slot, tokens: [token] });
    });
    entries = next;
  }
  return { results, timing };
}
