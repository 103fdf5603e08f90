/**
 * `moe`: MoE inference speed per offloading policy and GPU expert budget: prefill and decode
 * tokens/s, GPU bytes held by experts, hit ratio, bytes moved per decode token, and where decode
 * time goes (a second decode pass submits each layer's expert copies alone and waits, so the stall
 * per layer is measured, not modelled). all-gpu rows also report the same engine with GPU-side
 * routing turned off (`with_host_routing`: the routes read back at every MoE layer).
 *
 * On the H100: synthetic-weight models with real dimensions (Mixtral-8x7B: hidden 4096, ffn 14336,
 * 8 experts top-2, MOE_BENCH_LAYERS layers, default 8; Qwen1.5-MoE-A2.7B: hidden 2048, 60 experts
 * of 1408 + a shared expert of 5632, top-4, 24 layers). MOE_BENCH_MODELS picks (mixtral,qwen),
 * MOE_BENCH_POLICIES (e.g. all-gpu) and MOE_BENCH_BATCH narrow the run.
 * On a CPU or software adapter: the tiny models of every family.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Checkpoint } from '../src/moe/checkpoint.ts';
import { type MoeSpec, parseModelConfig, SUPPORTED_ARCHS } from '../src/moe/config.ts';
import type { MoeEngine } from '../src/moe/engine.ts';
import type { Policy } from '../src/moe/expertCache.ts';
import { argmax } from '../src/moe/generate.ts';
import { GpuMoeEngine } from '../src/moe/gpuEngine.ts';
import { ReferenceEngine } from '../src/moe/reference.ts';
import { makeTinyModel } from '../src/moe/tiny.ts';
import { SyntheticWeights, type WeightSource } from '../src/moe/weights.ts';
import type { Benchmark } from './registry.ts';

export const MIXTRAL = (layers: number): Record<string, unknown> => ({
  model_type: 'mixtral',
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: layers,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 32000,
  rms_norm_eps: 1e-5,
  rope_theta: 1e6,
  max_position_embeddings: 32768,
  num_local_experts: 8,
  num_experts_per_tok: 2,
});
const QWEN15 = (layers: number): Record<string, unknown> => ({
  model_type: 'qwen2_moe',
  hidden_size: 2048,
  intermediate_size: 5632,
  moe_intermediate_size: 1408,
  shared_expert_intermediate_size: 5632,
  num_hidden_layers: layers,
  num_attention_heads: 16,
  num_key_value_heads: 16,
  vocab_size: 151936,
  rms_norm_eps: 1e-6,
  rope_theta: 1e6,
  max_position_embeddings: 8192,
  num_experts: 60,
  num_experts_per_tok: 4,
  norm_topk_prob: false,
});

interface Workload {
  batch: number;
  promptTokens: number;
  decodeTokens: number;
}

/** Prefill once, then greedy decode; counters cover the decode only. */
async function measure(engine: MoeEngine, work: Workload, seed: number) {
  const prompts = Array.from({ length: work.batch }, (_, b) =>
    Array.from(
      { length: work.promptTokens },
      (_, i) => (seed * 7919 + b * 104729 + i * 31337) % engine.spec.vocab,
    ),
  );
  prompts.forEach((_, slot) => engine.reset(slot));
  let started = performance.now();
  let logits = await engine.step(prompts.map((tokens, slot) => ({ slot, tokens })));
  const prefillMs = performance.now() - started;
  if (engine instanceof GpuMoeEngine) engine.resetCounters();
  started = performance.now();
  for (let i = 0; i < work.decodeTokens; i++) {
    logits = await engine.step(logits.map((l, slot) => ({ slot, tokens: [argmax(l)] })));
  }
  const decodeMs = performance.now() - started;
  const c = engine.counters();
  const accesses = c.expertHits + c.expertMisses;
  const decodeTokens = work.batch * work.decodeTokens;
  return {
    prefill_tokens_per_s: (work.batch * work.promptTokens) / (prefillMs / 1000),
    decode_tokens_per_s: decodeTokens / (decodeMs / 1000),
    decode_ms_per_step: decodeMs / work.decodeTokens,
    hit_ratio: accesses > 0 ? c.expertHits / accesses : null,
    misses_per_step: c.expertMisses / work.decodeTokens,
    bytes_moved_per_step: c.bytesMoved / work.decodeTokens,
    stall_ms_per_step: c.stallMs.reduce((a, b) => a + b, 0) / work.decodeTokens,
    stall_ms_per_layer_per_step: c.stallMs.map((ms) => +(ms / work.decodeTokens).toFixed(3)),
  };
}

async function gpuRuns(
  gpu: GPUDevice,
  name: string,
  weights: WeightSource,
  cases: [Policy, number | undefined][],
  work: Workload,
) {
  const rows = [];
  const only = process.env.MOE_BENCH_POLICIES?.split(',');
  for (const [policy, expertsPerLayer] of cases) {
    if (only && !only.includes(policy)) continue;
    const loadStart = performance.now();
    const engine = await GpuMoeEngine.load(gpu, weights, {
      policy,
      expertsPerLayer,
      maxSequences: work.batch,
      maxPositions: work.promptTokens + work.decodeTokens + 8,
    });
    const loadS = (performance.now() - loadStart) / 1000;
    await measure(engine, { ...work, decodeTokens: 2 }, 99); // warm-up: pipelines, first misses
    const timed = await measure(engine, work, 1);
    let hostRouting = null;
    if (policy === 'all-gpu') {
      // The same engine reading every MoE layer's routes back (one submit + sync per layer).
      engine.gpuRouting = false;
      hostRouting = await measure(engine, work, 3);
      engine.gpuRouting = true;
    }
    let stalls = null;
    if (policy !== 'all-gpu') {
      engine.measureStalls = true;
      stalls = await measure(engine, work, 2);
      engine.measureStalls = false;
    }
    rows.push({
      model: name,
      policy,
      experts_per_layer: engine.cache.capacity,
      gpu_expert_bytes: engine.counters().expertGpuBytes,
      gpu_bytes: engine.counters().gpuBytes,
      load_s: +loadS.toFixed(1),
      ...work,
      ...timed,
      prefetches: policy === 'lookahead' ? engine.cache.prefetches : undefined,
      with_host_routing: hostRouting,
      with_stall_measurement: stalls,
    });
    console.error(JSON.stringify(rows.at(-1)));
    await engine.close();
  }
  return rows;
}

export const moeBenchmark: Benchmark = async (device) => {
  const hardware = device.kind === 'webgpu' && !device.adapter.software;
  if (hardware) {
    const layers = Number(process.env.MOE_BENCH_LAYERS ?? 8);
    const models = (process.env.MOE_BENCH_MODELS ?? 'mixtral,qwen').split(',');
    const batch = Number(process.env.MOE_BENCH_BATCH ?? 1);
    const work = { batch, promptTokens: 64, decodeTokens: 32 };
    const rows = [];
    if (models.includes('mixtral')) {
      const spec = parseModelConfig(MIXTRAL(layers));
      rows.push(
        ...(await gpuRuns(
          device.gpu,
          `mixtral-8x7b-shaped (${layers} layers)`,
          new SyntheticWeights(spec, 1),
          [
            ['all-gpu', undefined],
            ['lru', 2],
            ['lookahead', 2],
            ['lru', 4],
          ],
          work,
        )),
      );
    }
    if (models.includes('qwen')) {
      const spec: MoeSpec = parseModelConfig(
        QWEN15(Number(process.env.MOE_BENCH_QWEN_LAYERS ?? 24)),
      );
      rows.push(
        ...(await gpuRuns(
          device.gpu,
          'qwen1.5-moe-a2.7b-shaped',
          new SyntheticWeights(spec, 2),
          [
            ['all-gpu', undefined],
            ['lru', 8],
            ['lookahead', 8],
            ['lru', 16],
          ],
          work,
        )),
      );
    }
    return {
      params: { layers, work, weights: 'synthetic f16 (seeded), real dimensions' },
      results: { rows },
    };
  }
  // CPU or software adapter: tiny models of every family.
  const root = await mkdtemp(join(tmpdir(), 'driftflow-moe-bench-'));
  const rows = [];
  const work = { batch: 2, promptTokens: 16, decodeTokens: 8 };
  try {
    for (const arch of SUPPORTED_ARCHS) {
      const dir = join(root, arch);
      await makeTinyModel({ arch, out: dir });
      const checkpoint = await Checkpoint.open(dir);
      if (device.kind === 'wasm') {
        const engine = await ReferenceEngine.load(checkpoint, {
          maxSequences: work.batch,
          maxPositions: 64,
        });
        rows.push({
          model: `tiny ${arch}`,
          engine: 'ts-reference',
          ...work,
          ...(await measure(engine, work, 1)),
        });
      } else {
        rows.push(
          ...(await gpuRuns(
            device.gpu,
            `tiny ${arch}`,
            checkpoint,
            [
              ['all-gpu', undefined],
              ['lru', 2],
              ['lookahead', 2],
            ],
            work,
          )),
        );
      }
      await checkpoint.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return { params: { work }, results: { rows } };
};
