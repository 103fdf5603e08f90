// The WGSL MoE engine against the plain-TS reference on tiny models of every family (logits within
// f16-weight / f32-accumulation tolerance), and the offloading contract: greedy tokens and routes
// identical across all-gpu, lru and lookahead, with the cache really missing and prefetching.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Checkpoint } from '../../src/moe/checkpoint.ts';
import { expertBytes, SUPPORTED_ARCHS } from '../../src/moe/config.ts';
import type { TokenRoute } from '../../src/moe/engine.ts';
import { type Policy } from '../../src/moe/expertCache.ts';
import { generateBatch } from '../../src/moe/generate.ts';
import { createAdvisor, predictorSource } from '../../src/moe/expertflow/advisor.ts';
import { RoutePredictor } from '../../src/moe/predictor/predictorInfer.ts';
import { predictorInitialValues } from '../../src/moe/predictor/predictorModel.ts';
import { GpuMoeEngine } from '../../src/moe/gpuEngine.ts';
import { ReferenceEngine } from '../../src/moe/reference.ts';
import { makeTinyModel } from '../../src/moe/tiny.ts';
import { assertAllclose } from '../helpers/allclose.ts';
import { webGpuOrSkip } from '../helpers/devices.ts';

const { gpu, skip } = await webGpuOrSkip();
const root = await mkdtemp(join(tmpdir(), 'driftflow-moe-gpu-'));
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const models = new Map<string, Checkpoint>();
async function tiny(arch: (typeof SUPPORTED_ARCHS)[number]): Promise<Checkpoint> {
  let checkpoint = models.get(arch);
  if (!checkpoint) {
    const dir = join(root, arch);
    await makeTinyModel({ arch, out: dir, seed: 11 });
    checkpoint = await Checkpoint.open(dir);
    models.set(arch, checkpoint);
  }
  return checkpoint;
}

const PROMPTS = [
  [5, 77, 130, 9, 200, 31, 44, 2, 180, 61],
  [12, 250, 3],
];

describe('WGSL MoE engine', { skip }, () => {
  for (const arch of SUPPORTED_ARCHS) {
    it(`${arch}: logits match the TS reference in prefill and decode, several sequences`, async () => {
      const checkpoint = await tiny(arch);
      const reference = await ReferenceEngine.load(checkpoint, {
        maxSequences: 2,
        maxPositions: 64,
      });
      // maxStepTokens 8 splits the 13-token prefill into chunks.
      const engine = await GpuMoeEngine.load(gpu!.gpu, checkpoint, {
        policy: 'all-gpu',
        maxSequences: 2,
        maxPositions: 64,
        maxStepTokens: 8,
      });
      const steps = [
        PROMPTS.map((tokens, slot) => ({ slot, tokens })),
        [
          { slot: 0, tokens: [7] },
          { slot: 1, tokens: [99] },
        ],
        [{ slot: 1, tokens: [100, 101] }],
      ];
      for (const entries of steps) {
        const expected = await reference.step(entries);
        const got = await engine.step(entries);
        expected.forEach((e, i) => assertAllclose(got[i]!, e, { rtol: 2e-3, atol: 2e-3 }));
      }
      await engine.close();
    });
  }

  for (const arch of SUPPORTED_ARCHS) {
    it(`${arch}: all-gpu decode with routes kept on the GPU equals host routing, experts in 3 chunks`, async () => {
      const checkpoint = await tiny(arch);
      const spec = checkpoint.spec;
      const engines = await Promise.all(
        [true, false].map((gpuRouting) =>
          GpuMoeEngine.load(gpu!.gpu, checkpoint, {
            policy: 'all-gpu',
            maxSequences: 2,
            maxPositions: 64,
            gpuRouting,
            expertChunkBytes: Math.ceil(spec.numExperts / 3) * expertBytes(spec),
          }),
        ),
      );
      const [onGpu, onHost] = engines as [GpuMoeEngine, GpuMoeEngine];
      const steps = [
        PROMPTS.map((tokens, slot) => ({ slot, tokens })),
        [{ slot: 0, tokens: [7] }],
        [
          { slot: 0, tokens: [8] },
          { slot: 1, tokens: [99] },
        ],
      ];
      for (const entries of steps) {
        const expected = await onHost.step(entries);
        const got = await onGpu.step(entries);
        expected.forEach((e, i) => assertAllclose(got[i]!, e, { rtol: 1e-6, atol: 1e-6 }));
      }
      // Only the prefill read routes back on the GPU-routed engine; the host engine read every step.
      const moeLayers = spec.layerKinds.filter((k) => k === 'moe').length;
      assert.equal(onGpu.routeReadbacks, moeLayers);
      assert.equal(onHost.routeReadbacks, 3 * moeLayers);
      await Promise.all(engines.map((e) => e.close()));
    });
  }

  for (const arch of SUPPORTED_ARCHS) {
    it(`${arch}: greedy tokens and routes identical under all-gpu, lru, lookahead and expertflow (per-layer slots and a shared pool)`, async () => {
      const checkpoint = await tiny(arch);
      const runs: Record<string, { tokens: number[][]; routes: string[]; engine: GpuMoeEngine }> =
        {};
      // [run name, policy, slots per layer, shared pool]
      const policies: [string, Policy, number | undefined, number | undefined][] = [
        ['all-gpu', 'all-gpu', undefined, undefined],
        ['lru', 'lru', 2, undefined],
        ['lookahead', 'lookahead', 3, undefined],
        ['expertflow', 'expertflow', 2, undefined],
        ['lru pool', 'lru', undefined, 3],
        ['expertflow pool', 'expertflow', undefined, 2],
      ];
      const spec = checkpoint.spec;
      const moeLayers = spec.layerKinds.flatMap((k, l) => (k === 'moe' ? [l] : []));
      // An untrained predictor: its advice is mostly wrong, which must cost copies, never tokens.
      const shape = {
        vocab: spec.vocab,
        width: 16,
        layers: 1,
        heads: 2,
        ffn: 16,
        maxPositions: 64,
        moeLayers: moeLayers.length,
        experts: spec.numExperts,
      };
      const advisor = createAdvisor(
        predictorSource(new RoutePredictor(shape, predictorInitialValues(shape, 1))),
        { moeLayers, experts: spec.numExperts, topK: spec.topK, prefetch: true },
      );
      for (const [name, policy, expertsPerLayer, sharedSlots] of policies) {
        const engine = await GpuMoeEngine.load(gpu!.gpu, checkpoint, {
          policy,
          expertsPerLayer,
          sharedSlots,
          ...(policy === 'expertflow' ? { advisor } : {}),
          maxSequences: 2,
          maxPositions: 64,
        });
        const routes: string[] = [];
        const observe = (layer: number, r: TokenRoute[]): void => {
          routes.push(`${layer}:${r.map((x) => x.experts.join(',')).join('|')}`);
        };
        const { results } = await generateBatch(
          engine,
          PROMPTS.map((prompt) => ({ prompt, maxTokens: 12 })),
          { observe },
        );
        runs[name] = { tokens: results.map((r) => r.tokens), routes, engine };
      }
      for (const name of ['lru pool', 'expertflow pool']) {
        assert.deepEqual(runs[name]!.tokens, runs['all-gpu']!.tokens, name);
        assert.deepEqual(runs[name]!.routes, runs['all-gpu']!.routes, name);
        assert.ok(runs[name]!.engine.cache.shared);
      }
      // The pool's slots exist once, not once per layer.
      const expertBytes = runs.lru!.engine.counters().expertGpuBytes / (2 * moeLayers.length);
      assert.equal(runs['lru pool']!.engine.counters().expertGpuBytes, 3 * expertBytes);
      assert.deepEqual(runs.lru!.tokens, runs['all-gpu']!.tokens);
      assert.deepEqual(runs.lookahead!.tokens, runs['all-gpu']!.tokens);
      assert.deepEqual(runs.lru!.routes, runs['all-gpu']!.routes);
      assert.deepEqual(runs.lookahead!.routes, runs['all-gpu']!.routes);
      assert.deepEqual(runs.expertflow!.tokens, runs['all-gpu']!.tokens);
      assert.deepEqual(runs.expertflow!.routes, runs['all-gpu']!.routes);
      assert.ok(runs.expertflow!.engine.adviceCopies > 0, 'the advisor prefetched');
      assert.ok(advisor.hostMs > 0);
      const lru = runs.lru!.engine;
      assert.ok(lru.counters().expertMisses > 0 && lru.counters().bytesMoved > 0);
      assert.equal(runs['all-gpu']!.engine.counters().expertMisses, 0);
      assert.ok(runs.lookahead!.engine.cache.prefetches > 0);
      for (const run of Object.values(runs)) await run.engine.close();
    });
  }
});
