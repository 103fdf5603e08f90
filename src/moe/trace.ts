/**
 * Routing traces: which experts the router chose, with their weights, for every token that went
 * through the model (prompt and decoded), at every MoE layer. They are the training and test data
 * of ExpertFlow's routing-path predictor and drive trace-replay benchmarks. Stored as HDF5
 * (readable by h5py):
 *   /tokens            int32  [N]           every token fed to the model, sequences back to back
 *   /sequence_offsets  int32  [S + 1]       sequence s is tokens[offsets[s] : offsets[s+1]]
 *   /prompt_lengths    int32  [S]           the first prompt_lengths[s] tokens of s are its prompt
 *   /experts           uint16 [N, L, K]     expert ids per token, MoE layer and choice (best first)
 *   /weights           float32 [N, L, K]    their mixing weights
 * Root attributes: model, arch, num_experts, top_k, moe_layers (the decoder layer of each of the
 * L MoE layers), domains (JSON list, one label per sequence). The last generated token of a
 * sequence is never fed back, so it has no routes and is not stored.
 */
import { H5Writer, readH5 } from '../io/hdf5.ts';
import type { MoeEngine, TokenPlace, TokenRoute } from './engine.ts';
import { generateBatch, type SamplingOptions } from './generate.ts';

export interface TracedSequence {
  domain: string;
  /** Every token fed to the model: the prompt, then the generated tokens except the last. */
  tokens: number[];
  promptLength: number;
  /** experts[(position * L + layer) * K + j]. */
  experts: Uint16Array;
  weights: Float32Array;
}

export interface RouteTrace {
  model: string;
  arch: string;
  numExperts: number;
  topK: number;
  /** Decoder layer index of each MoE layer, in order. */
  moeLayers: number[];
  sequences: TracedSequence[];
}

export interface TraceRequest {
  prompt: number[];
  maxTokens: number;
  domain: string;
  /** Tokens to feed instead of generated ones (teacher forcing). */
  forced?: number[];
}

/**
 * Generates for every request (batches of the engine's slots) and records the routes of every
 * token it feeds. `onBatch` reports progress (sequences done so far).
 */
export async function recordTrace(
  engine: MoeEngine,
  model: string,
  requests: TraceRequest[],
  options: { sampling?: SamplingOptions; eos?: number[]; onBatch?: (done: number) => void } = {},
): Promise<RouteTrace> {
  const spec = engine.spec;
  const moeLayers = spec.layerKinds.flatMap((k, l) => (k === 'moe' ? [l] : []));
  const layerIndex = new Map(moeLayers.map((l, i) => [l, i]));
  const L = moeLayers.length;
  const K = spec.topK;
  const sequences: TracedSequence[] = [];
  for (let start = 0; start < requests.length; start += engine.maxSequences) {
    const batch = requests.slice(start, start + engine.maxSequences);
    // routes[slot][position][layer]
    const routes: TokenRoute[][][] = batch.map(() => []);
    const observe = (layer: number, got: TokenRoute[], places: TokenPlace[]): void => {
      const index = layerIndex.get(layer)!;
      got.forEach((route, t) => {
        const { slot, position } = places[t]!;
        (routes[slot]![position] ??= [])[index] = route;
      });
    };
    const { results } = await generateBatch(
      engine,
      batch.map((r) => ({
        prompt: r.prompt,
        maxTokens: r.maxTokens,
        ...(r.forced ? { forced: r.forced } : {}),
        ...(options.sampling ? { sampling: options.sampling } : {}),
      })),
      { observe, ...(options.eos ? { eos: options.eos } : {}) },
    );
    batch.forEach((request, slot) => {
      const tokens = [...request.prompt, ...results[slot]!.tokens.slice(0, -1)];
      const experts = new Uint16Array(tokens.length * L * K);
      const weights = new Float32Array(tokens.length * L * K);
      tokens.forEach((_, position) => {
        for (let layer = 0; layer < L; layer++) {
          const route = routes[slot]![position]?.[layer];
          if (!route) throw new Error(`no route recorded for position ${position}, layer ${layer}`);
          experts.set(route.experts, (position * L + layer) * K);
          weights.set(route.weights, (position * L + layer) * K);
        }
      });
      sequences.push({
        domain: request.domain,
        tokens,
        promptLength: request.prompt.length,
        experts,
        weights,
      });
    });
    options.onBatch?.(sequences.length);
  }
  return { model, arch: spec.arch, numExperts: spec.numExperts, topK: K, moeLayers, sequences };
}

export async function writeTrace(path: string, trace: RouteTrace): Promise<void> {
  const L = trace.moeLayers.length;
  const K = trace.topK;
  const N = trace.sequences.reduce((a, s) => a + s.tokens.length, 0);
  const writer = await H5Writer.create(path, {
    model: trace.model,
    arch: trace.arch,
    num_experts: trace.numExperts,
    top_k: K,
    moe_layers: trace.moeLayers,
    domains: JSON.stringify(trace.sequences.map((s) => s.domain)),
  });
  try {
    const offsets = new Int32Array(trace.sequences.length + 1);
    const experts = new Uint16Array(N * L * K);
    const weights = new Float32Array(N * L * K);
    let at = 0;
    trace.sequences.forEach((s, i) => {
      experts.set(s.experts, at * L * K);
      weights.set(s.weights, at * L * K);
      at += s.tokens.length;
      offsets[i + 1] = at;
    });
    const tokens = Int32Array.from(trace.sequences.flatMap((s) => s.tokens));
    writer.writeDataset('/tokens', { data: tokens, shape: [N] });
    writer.writeDataset('/sequence_offsets', { data: offsets, shape: [offsets.length] });
    writer.writeDataset('/prompt_lengths', {
      data: Int32Array.from(trace.sequences.map((s) => s.promptLength)),
      shape: [trace.sequences.length],
    });
    writer.writeDataset('/experts', { data: experts, shape: [N, L, K] });
    writer.writeDataset('/weights', { data: weights, shape: [N, L, K] });
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

export async function readTrace(path: string): Promise<RouteTrace> {
  const file = await readH5(path);
  try {
    const a = file.attrs;
    for (const name of ['num_experts', 'top_k', 'moe_layers', 'domains']) {
      if (!(name in a)) throw new Error(`${path} is not a driftflow routing trace (no '${name}')`);
    }
    const L = (a.moe_layers as number[]).length;
    const K = Number(a.top_k);
    const ints = (name: string): Int32Array => file.get(name).data as unknown as Int32Array;
    const offsets = ints('/sequence_offsets');
    const tokens = ints('/tokens');
    const promptLengths = ints('/prompt_lengths');
    const experts = file.get('/experts').data as unknown as Uint16Array;
    const weights = file.get('/weights').data as Float32Array;
    const domains = JSON.parse(String(a.domains)) as string[];
    const stride = L * K;
    return {
      model: String(a.model),
      arch: String(a.arch),
      numExperts: Number(a.num_experts),
      topK: K,
      moeLayers: Array.from(a.moe_layers as number[]),
      sequences: domains.map((domain, s) => {
        const [from, to] = [offsets[s]!, offsets[s + 1]!];
        return {
          domain,
          tokens: Array.from(tokens.subarray(from, to)),
          promptLength: promptLengths[s]!,
          experts: experts.slice(from * stride, to * stride),
          weights: weights.slice(from * stride, to * stride),
        };
      }),
    };
  } finally {
    file.close();
  }
}
