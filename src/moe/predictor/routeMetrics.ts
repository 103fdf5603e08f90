/**
 * How well predicted routes match recorded ones, the way ExpertFlow reports it: for every token and
 * MoE layer, take the predicted top-m experts (m = k, 1.5k, 2k) and compare them with the true
 * top-k set; recall = |hit| / k, precision = |hit| / m, averaged per layer. Also the two reference
 * predictors a learned one must beat: per-layer expert frequency, and a per-(token, layer) table
 * of the experts each token id was routed to in training (the paper's token-level heuristic).
 */
import type { RouteTrace } from '../trace.ts';

export interface RouteExamples {
  numExperts: number;
  topK: number;
  moeLayers: number;
  sequences: { tokens: number[]; promptLength: number; experts: Uint16Array; domain: string }[];
}

export function examplesFromTrace(trace: RouteTrace): RouteExamples {
  return {
    numExperts: trace.numExperts,
    topK: trace.topK,
    moeLayers: trace.moeLayers.length,
    sequences: trace.sequences.map((s) => ({
      tokens: s.tokens,
      promptLength: s.promptLength,
      experts: s.experts,
      domain: s.domain,
    })),
  };
}

/** Set widths reported: k, 1.5k (rounded up), 2k. */
export function setWidths(k: number): number[] {
  return [...new Set([k, Math.ceil(1.5 * k), 2 * k])];
}

export interface LayerScore {
  layer: number;
  /** recall[m] and precision[m] for each width m. */
  recall: Record<number, number>;
  precision: Record<number, number>;
}

export interface RouteScore {
  tokens: number;
  layers: LayerScore[];
  /** Mean over layers. */
  recall: Record<number, number>;
  precision: Record<number, number>;
}

/** Indices of the m largest scores (ties: lower index first). */
export function topIndices(
  scores: ArrayLike<number>,
  offset: number,
  count: number,
  m: number,
): number[] {
  const idx = Array.from({ length: count }, (_, i) => i);
  idx.sort((a, b) => scores[offset + b]! - scores[offset + a]! || a - b);
  return idx.slice(0, m);
}

export type RouteScorer = (sequence: number) => ArrayLike<number>[];

/**
 * Scores predictions: `predict(s)` gives, per token of sequence s, scores [L*E]. `which` picks
 * the positions counted ('decode' = after the prompt, as the decode-time cache uses them).
 */
export function scoreRoutes(
  data: RouteExamples,
  predict: RouteScorer,
  which: 'all' | 'decode' = 'all',
): RouteScore {
  const { moeLayers: L, numExperts: E, topK: K } = data;
  const widths = setWidths(K);
  const hits = widths.map(() => new Float64Array(L));
  let tokens = 0;
  data.sequences.forEach((seq, s) => {
    const scores = predict(s);
    const first = which === 'decode' ? seq.promptLength : 0;
    for (let t = first; t < seq.tokens.length; t++) {
      tokens++;
      for (let l = 0; l < L; l++) {
        const truth = new Set(seq.experts.subarray((t * L + l) * K, (t * L + l + 1) * K));
        widths.forEach((m, w) => {
          for (const e of topIndices(scores[t]!, l * E, E, m)) if (truth.has(e)) hits[w]![l]!++;
        });
      }
    }
  });
  const layers: LayerScore[] = Array.from({ length: L }, (_, layer) => ({
    layer,
    recall: Object.fromEntries(widths.map((m, w) => [m, hits[w]![layer]! / (tokens * K)])),
    precision: Object.fromEntries(widths.map((m, w) => [m, hits[w]![layer]! / (tokens * m)])),
  }));
  const mean = (pick: (l: LayerScore) => number) => layers.reduce((a, l) => a + pick(l), 0) / L;
  return {
    tokens,
    layers,
    recall: Object.fromEntries(widths.map((m) => [m, mean((l) => l.recall[m]!)])),
    precision: Object.fromEntries(widths.map((m) => [m, mean((l) => l.precision[m]!)])),
  };
}

/** Per-layer expert frequency in `train`: the same scores for every token. */
export function frequencyScorer(train: RouteExamples, test: RouteExamples): RouteScorer {
  const { moeLayers: L, numExperts: E, topK: K } = train;
  const counts = new Float64Array(L * E);
  for (const seq of train.sequences)
    for (let t = 0; t < seq.tokens.length; t++)
      for (let l = 0; l < L; l++)
        for (let j = 0; j < K; j++) counts[l * E + seq.experts[(t * L + l) * K + j]!]!++;
  return (s) => test.sequences[s]!.tokens.map(() => counts);
}

/** Per-(token id, layer) expert counts in `train`, falling back to the frequency for unseen ids. */
export function tokenTableScorer(train: RouteExamples, test: RouteExamples): RouteScorer {
  const { moeLayers: L, numExperts: E, topK: K } = train;
  const table = new Map<number, Float64Array>();
  const global = new Float64Array(L * E);
  for (const seq of train.sequences)
    seq.tokens.forEach((token, t) => {
      let row = table.get(token);
      if (!row) table.set(token, (row = new Float64Array(L * E)));
      for (let l = 0; l < L; l++)
        for (let j = 0; j < K; j++) {
          const e = seq.experts[(t * L + l) * K + j]!;
          row[l * E + e]!++;
          global[l * E + e]!++;
        }
    });
  // A tiny share of the global counts breaks ties among a token's rarely seen experts.
  const scoresFor = (token: number) => {
    const row = table.get(token);
    if (!row) return global;
    return row.map((c, i) => c + 1e-6 * global[i]!);
  };
  return (s) => test.sequences[s]!.tokens.map(scoresFor);
}
