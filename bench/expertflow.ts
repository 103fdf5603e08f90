/**
 * `npm run bench -- expertflow`: trace-driven replay of ExpertFlow on the GPU engine. Mixtral-8x7B-
 * shaped synthetic weights (hidden 4096, 8 experts of 14336, top-2; EXPERTFLOW_LAYERS layers,
 * default 8) run the tokens of recorded sequences of driftflow's Brown-Corpus MoE, and every MoE
 * layer takes the experts the trace recorded (decoder layer l replays trace layer l mod L): the
 * routing is real, the compute and the copies are real. Prompts are prefilled, then the recorded
 * continuation is fed one token per step (teacher forcing, as the paper's benchmark does).
 *
 * Policies, same engine and GPU budget: all-gpu, lru (resident experts first), and expertflow with
 * advice from the predictor run online inside each step (timed), from predictions computed ahead
 * (offline), or from the trace's true routes (oracle); with and without prefetch; at batch 4 also
 * with the token scheduler regrouping two batches every step (it predicts each step's tokens, timed,
 * and the advisor reuses those predictions).
 * Inputs: EXPERTFLOW_TRACE (default out/traces/brown-test.h5), EXPERTFLOW_PREDICTOR (default
 * out/predictor/predictor.safetensors).
 */
import {
  createAdvisor,
  lookaheadSource,
  predictorSource,
  type RouteSource,
} from '../src/moe/expertflow/advisor.ts';
import { type RouteSet, routeSet, scheduleBatches } from '../src/moe/expertflow/scheduler.ts';
import { parseModelConfig } from '../src/moe/config.ts';
import type { Policy } from '../src/moe/expertCache.ts';
import { GpuMoeEngine } from '../src/moe/gpuEngine.ts';
import { loadPredictor } from '../src/moe/predictor/predictorFile.ts';
import type { RoutePredictor } from '../src/moe/predictor/predictorInfer.ts';
import {
  examplesFromTrace,
  type RouteExamples,
  topIndices,
} from '../src/moe/predictor/routeMetrics.ts';
import { readTrace } from '../src/moe/trace.ts';
import { SyntheticWeights } from '../src/moe/weights.ts';
import { MIXTRAL } from './moe.ts';
import type { Benchmark } from './registry.ts';

type Advice = 'online' | 'offline' | 'oracle';

interface Case {
  policy: Policy;
  slots?: number;
  /** Instead of slots per layer: one pool of this many slots shared by all layers. */
  pool?: number;
  advice?: Advice;
  prefetch?: boolean;
  schedule?: boolean;
}

/** A source over `layers` MoE layers that repeats a source over fewer (layer l -> l mod L). */
function tiled(source: RouteSource, from: number, to: number, experts: number): RouteSource {
  return {
    reset: (slot) => source.reset(slot),
    next(slot, token) {
      const p = source.next(slot, token);
      const out = new Float32Array(to * experts);
      for (let l = 0; l < to; l++)
        for (let e = 0; e < experts; e++) out[l * experts + e] = p[(l % from) * experts + e]!;
      return out;
    },
  };
}

/** Probabilities 1 on each recorded expert of the sequence in `slot` at its next position. */
function traceSource(data: RouteExamples, sequenceOf: number[]): RouteSource {
  const position = new Map<number, number>();
  const { moeLayers: L, numExperts: E, topK: K } = data;
  return {
    reset: (slot) => position.delete(slot),
    next(slot) {
      const t = position.get(slot) ?? 0;
      position.set(slot, t + 1);
      const seq = data.sequences[sequenceOf[slot]!]!;
      const p = new Float32Array(L * E);
      for (let l = 0; l < L; l++)
        for (let j = 0; j < K; j++) p[l * E + seq.experts[(t * L + l) * K + j]!] = 1;
      return p;
    },
  };
}

/** Predictions computed ahead for every position (offline: no predictor time in the step). */
function precomputedSource(predictor: RoutePredictor, data: RouteExamples, sequenceOf: number[]) {
  const all = data.sequences.map((s) => predictor.predict(s.tokens));
  const position = new Map<number, number>();
  return {
    reset: (slot: number) => position.delete(slot),
    next(slot: number) {
      const t = position.get(slot) ?? 0;
      position.set(slot, t + 1);
      return all[sequenceOf[slot]!]![t]!;
    },
  } satisfies RouteSource;
}

export const expertflowBenchmark: Benchmark = async (device) => {
  if (device.kind !== 'webgpu' || device.adapter.software)
    throw new Error(
      'the expertflow benchmark replays traces on Mixtral-sized weights: it needs a hardware GPU (--device webgpu)',
    );
  const tracePath = process.env.EXPERTFLOW_TRACE ?? 'out/traces/brown-test.h5';
  const predictorPath = process.env.EXPERTFLOW_PREDICTOR ?? 'out/predictor/predictor.safetensors';
  const data = examplesFromTrace(await readTrace(tracePath));
  const { predictor } = await loadPredictor(predictorPath);
  const layers = Number(process.env.EXPERTFLOW_LAYERS ?? 8);
  const decodeSteps = Number(process.env.EXPERTFLOW_DECODE ?? 32);
  const spec = parseModelConfig(MIXTRAL(layers));
  const weights = new SyntheticWeights(spec, 1);
  const E = spec.numExperts;
  const K = spec.topK;
  const Lt = data.moeLayers;
  if (data.numExperts !== E || data.topK !== K)
    throw new Error(
      `the trace routes top-${data.topK} of ${data.numExperts} experts; Mixtral needs top-${K} of ${E}`,
    );
  const cases: [number, Case][] = [];
  for (const batch of (process.env.EXPERTFLOW_BATCH ?? '1,4').split(',').map(Number)) {
    cases.push(
      [batch, { policy: 'all-gpu' }],
      [batch, { policy: 'lru', slots: 2 }],
      [batch, { policy: 'expertflow', slots: 2, advice: 'online', prefetch: true }],
      [batch, { policy: 'expertflow', slots: 2, advice: 'online', prefetch: false }],
      [batch, { policy: 'expertflow', slots: 2, advice: 'offline', prefetch: true }],
      [batch, { policy: 'expertflow', slots: 2, advice: 'oracle', prefetch: true }],
    );
    if (batch > 1)
      cases.push(
        [
          batch,
          { policy: 'expertflow', slots: 2, advice: 'online', prefetch: true, schedule: true },
        ],
        [
          batch,
          { policy: 'expertflow', slots: 2, advice: 'online', prefetch: false, schedule: true },
        ],
        [batch, { policy: 'lru', slots: 4 }],
        [
          batch,
          { policy: 'expertflow', slots: 4, advice: 'online', prefetch: true, schedule: true },
        ],
      );
  }
  // A shared pool of 3 slots: the paper's memory setting (GPU bytes <= 10% of all-gpu).
  for (const batch of (process.env.EXPERTFLOW_BATCH ?? '1,4').split(',').map(Number)) {
    cases.push(
      [batch, { policy: 'lru', pool: 3 }],
      [batch, { policy: 'expertflow', pool: 3, advice: 'online', prefetch: true }],
      [batch, { policy: 'expertflow', pool: 3, advice: 'online', prefetch: false }],
      [batch, { policy: 'expertflow', pool: 3, advice: 'oracle', prefetch: true }],
    );
  }
  const only = process.env.EXPERTFLOW_CASES?.split(',').map(Number);
  const rows = [];
  /** all-gpu's GPU bytes per batch size (its KV cache grows with the batch). */
  const allGpuBytes = new Map<number, number>();
  for (const [index, [batch, c]] of cases.entries()) {
    if (only && !only.includes(index)) continue;
    // Two batches' worth of sequences, each in its own KV slot; the scheduler may regroup them.
    const group = Array.from({ length: 2 * batch }, (_, i) => i);
    const sequenceOf = group.slice();
    let source: RouteSource | null = null;
    // With scheduling, the scheduler predicts each step's tokens first and the advisor reuses
    // those predictions (one predictor run per token, as a deployment would do).
    if (c.schedule && c.advice !== 'online')
      throw new Error(
        "token scheduling shares the online advisor's predictions: use advice online",
      );
    const shared = c.schedule ? lookaheadSource(predictorSource(predictor)) : null;
    if (c.advice === 'online') source = shared ?? predictorSource(predictor);
    else if (c.advice === 'offline') source = precomputedSource(predictor, data, sequenceOf);
    else if (c.advice === 'oracle') source = traceSource(data, sequenceOf);
    const moeLayers = Array.from({ length: layers }, (_, l) => l);
    const advisor = source
      ? createAdvisor(tiled(source, Lt, layers, E), {
          moeLayers,
          experts: E,
          topK: K,
          prefetch: c.prefetch ?? true,
        })
      : undefined;
    const engine = await GpuMoeEngine.load(device.gpu, weights, {
      policy: c.policy,
      expertsPerLayer: c.slots,
      sharedSlots: c.pool,
      maxSequences: group.length,
      maxPositions: 64 + decodeSteps + 8,
      ...(advisor ? { advisor } : {}),
      routeOverride: (layer, places) => {
        const ids = new Uint32Array(places.length * K);
        places.forEach(({ slot, position }, t) => {
          const seq = data.sequences[sequenceOf[slot]!]!;
          const at = (position * Lt + (layer % Lt)) * K;
          for (let j = 0; j < K; j++) ids[t * K + j] = seq.experts[at + j]!;
        });
        return ids;
      },
    });
    const run = async (timed: boolean) => {
      group.forEach((slot) => engine.reset(slot));
      const batches = (live: number[]) => {
        const out: number[][] = [];
        for (let i = 0; i < live.length; i += batch) out.push(live.slice(i, i + batch));
        return out;
      };
      let started = performance.now();
      let prefillTokens = 0;
      for (const b of batches(group)) {
        const entries = b.map((slot) => {
          const seq = data.sequences[sequenceOf[slot]!]!;
          const prompt = seq.tokens.slice(0, seq.promptLength);
          prefillTokens += prompt.length;
          return { slot, tokens: prompt };
        });
        await engine.step(entries);
      }
      const prefillMs = performance.now() - started;
      engine.resetCounters();
      const copiesBefore = engine.adviceCopies;
      const hostBefore = advisor?.hostMs ?? 0;
      let schedulerMs = 0;
      let schedulerMax = 0;
      started = performance.now();
      const steps = timed ? decodeSteps : 2;
      for (let i = 0; i < steps; i++) {
        let grouping = batches(group);
        if (shared) {
          const t0 = performance.now();
          const sets: RouteSet[] = group.map((slot) => {
            const seq = data.sequences[sequenceOf[slot]!]!;
            const p = shared.ahead(slot, seq.tokens[seq.promptLength + i]!);
            const members: number[] = [];
            for (let l = 0; l < Lt; l++) {
              for (const e of topIndices(p, l * E, E, K)) members.push(l * E + e);
            }
            return routeSet(Lt * E, members);
          });
          grouping = scheduleBatches(sets, batch).map((g) => g.map((i) => group[i]!));
          const ms = performance.now() - t0;
          schedulerMs += ms;
          schedulerMax = Math.max(schedulerMax, ms);
        }
        for (const b of grouping)
          await engine.step(
            b.map((slot) => {
              const seq = data.sequences[sequenceOf[slot]!]!;
              return { slot, tokens: [seq.tokens[seq.promptLength + i]!] };
            }),
          );
      }
      await device.gpu.queue.onSubmittedWorkDone();
      const decodeMs = performance.now() - started;
      const counters = engine.counters();
      const accesses = counters.expertHits + counters.expertMisses;
      const tokens = steps * group.length;
      return {
        prefill_tokens_per_s: prefillTokens / (prefillMs / 1000),
        decode_tokens_per_s: tokens / (decodeMs / 1000),
        decode_ms_per_token_step: decodeMs / steps,
        hit_ratio: accesses > 0 ? counters.expertHits / accesses : null,
        on_demand_loads_per_step: counters.expertMisses / steps,
        prefetch_loads_per_step: (engine.adviceCopies - copiesBefore) / steps,
        bytes_moved_per_token: counters.bytesMoved / tokens,
        predictor_ms_per_step: ((advisor?.hostMs ?? 0) - hostBefore) / steps,
        scheduler_ms_per_decision: shared ? { mean: schedulerMs / steps, max: schedulerMax } : null,
        gpu_bytes: counters.gpuBytes,
        gpu_expert_bytes: counters.expertGpuBytes,
      };
    };
    await run(false); // warm-up: pipelines, first copies
    const result = await run(true);
    if (c.policy === 'all-gpu') allGpuBytes.set(batch, result.gpu_bytes);
    rows.push({
      case: index,
      batch,
      sequences: group.length,
      decode_steps: decodeSteps,
      policy: c.policy,
      experts_per_layer: engine.cache.shared ? null : engine.cache.capacity,
      shared_slots: engine.cache.shared ? engine.cache.slots : null,
      advice: c.advice ?? null,
      prefetch: c.prefetch ?? null,
      scheduled: c.schedule ?? false,
      ...result,
      gpu_bytes_vs_all_gpu: allGpuBytes.has(batch)
        ? result.gpu_bytes / allGpuBytes.get(batch)!
        : null,
    });
    console.error(JSON.stringify(rows.at(-1)));
    await engine.close();
  }
  return {
    params: {
      model: `mixtral-8x7b-shaped (${layers} layers), synthetic f16 weights`,
      trace: tracePath,
      predictor: predictorPath,
      routes: `trace layer = decoder layer mod ${Lt}`,
      decodeSteps,
    },
    results: { rows },
  };
};
