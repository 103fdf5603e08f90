// The loader, tokenizer and plain-TS reference forward pass on tiny models of every family: KV-cache
// consistency (one prefill == token by token), batching independence, RoPE's relative-position
// property, per-family router normalisation, and clear errors for malformed checkpoints.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Checkpoint } from '../../src/moe/checkpoint.ts';
import { parseModelConfig, ropeInverseFrequencies, SUPPORTED_ARCHS } from '../../src/moe/config.ts';
import type { TokenRoute } from '../../src/moe/engine.ts';
import { argmax, generateBatch, sampleToken } from '../../src/moe/generate.ts';
import { applyRope, ReferenceEngine } from '../../src/moe/reference.ts';
import { makeTinyModel } from '../../src/moe/tiny.ts';
import { ModelTokenizer } from '../../src/moe/tokenizer.ts';
import { uniformGenerator } from '../../src/spectral/random.ts';
import { assertAllclose } from '../helpers/allclose.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'driftflow-moe-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function tiny(arch: (typeof SUPPORTED_ARCHS)[number], extra = {}): Promise<string> {
  const dir = join(root, `${arch}-${Math.random().toString(36).slice(2)}`);
  await makeTinyModel({ arch, out: dir, seed: 7, shards: arch === 'mixtral' ? 2 : 1, ...extra });
  return dir;
}

describe('MoE reference engine on tiny models', () => {
  for (const arch of SUPPORTED_ARCHS) {
    it(`${arch}: one prefill equals token-by-token decode, batching changes nothing`, async () => {
      const checkpoint = await Checkpoint.open(await tiny(arch));
      const engine = await ReferenceEngine.load(checkpoint, { maxSequences: 3, maxPositions: 64 });
      const prompt = [5, 77, 130, 9, 200, 31];
      const [whole] = await engine.step([{ slot: 0, tokens: prompt }]);
      let last: Float32Array | undefined;
      for (const t of prompt) [last] = await engine.step([{ slot: 1, tokens: [t] }]);
      assertAllclose(last!, whole!, { rtol: 1e-5, atol: 1e-5 });
      // Another sequence in the same step does not change slot 0's result.
      engine.reset(0);
      const [alone, other] = await engine.step([
        { slot: 0, tokens: prompt },
        { slot: 2, tokens: [1, 2, 3] },
      ]);
      assertAllclose(alone!, whole!, { rtol: 1e-6, atol: 1e-6 });
      assert.ok(other!.some((v, i) => Math.abs(v - whole![i]!) > 1e-3));
      await checkpoint.close();
    });
  }

  it('routes follow each family: renormalised (mixtral, qwen3), raw (olmoe, qwen2), dense layer skipped', async () => {
    const sums: Record<string, number[]> = {};
    const layersSeen: Record<string, Set<number>> = {};
    for (const arch of SUPPORTED_ARCHS) {
      const checkpoint = await Checkpoint.open(await tiny(arch));
      const engine = await ReferenceEngine.load(checkpoint, { maxSequences: 1 });
      sums[arch] = [];
      layersSeen[arch] = new Set();
      await engine.step([{ slot: 0, tokens: [3, 50, 99, 150] }], (layer, routes: TokenRoute[]) => {
        layersSeen[arch]!.add(layer);
        for (const r of routes) {
          assert.equal(new Set(r.experts).size, r.experts.length);
          sums[arch]!.push(r.weights.reduce((a, b) => a + b, 0));
        }
      });
      await checkpoint.close();
    }
    for (const arch of ['mixtral', 'qwen3_moe']) {
      for (const s of sums[arch]!) assert.ok(Math.abs(s - 1) < 1e-12, `${arch} sum ${s}`);
    }
    for (const arch of ['olmoe', 'qwen2_moe']) {
      for (const s of sums[arch]!) assert.ok(s < 1 - 1e-6, `${arch} sum ${s}`);
    }
    assert.deepEqual([...layersSeen.qwen3_moe!], [1, 2]);
    assert.deepEqual([...layersSeen.mixtral!], [0, 1, 2]);
  });

  it('RoPE scores depend only on relative position', () => {
    const inv = ropeInverseFrequencies({ theta: 10000, scaling: { type: 'none' } }, 8);
    const q = Float32Array.from([0.3, -1, 0.5, 2, 0.1, 0.7, -0.4, 1.2]);
    const k = Float32Array.from([1, 0.2, -0.3, 0.5, -1.1, 0.4, 0.9, -0.2]);
    const score = (pq: number, pk: number): number => {
      const a = q.slice();
      const b = k.slice();
      applyRope(a, 8, pq, inv);
      applyRope(b, 8, pk, inv);
      return a.reduce((s, v, i) => s + v * b[i]!, 0);
    };
    assert.ok(Math.abs(score(7, 3) - score(104, 100)) < 1e-5);
    assert.ok(Math.abs(score(7, 3) - score(7, 5)) > 1e-3);
  });

  it('tokenizer round-trips text and renders the chat template', async () => {
    const tokenizer = await ModelTokenizer.open(await tiny('qwen2_moe'));
    const text = 'the cat sat in the hat, über alles';
    const ids = tokenizer.encode(text);
    assert.equal(tokenizer.decode(ids), text);
    assert.ok(ids.length < Buffer.byteLength(text), 'merges shorten the byte sequence');
    const chat = tokenizer.encodeChat([{ role: 'user', content: 'hi' }]);
    assert.equal(chat[0], 263, '<|im_start|> is one special token');
    assert.deepEqual(tokenizer.eosIds, [264]);
  });

  it('greedy generation is argmax; seeded sampling reproduces; top-k 1 is greedy', async () => {
    const logits = Float32Array.from([0.1, 2, -1, 1.9, 0.5]);
    assert.equal(
      sampleToken(logits, { temperature: 0, topK: 0, topP: 1, seed: 0 }, Math.random),
      1,
    );
    const draw = (seed: number): number[] => {
      const u = uniformGenerator(seed);
      return Array.from({ length: 20 }, () =>
        sampleToken(logits, { temperature: 1, topK: 0, topP: 1, seed }, u),
      );
    };
    assert.deepEqual(draw(3), draw(3));
    assert.ok(new Set(draw(3)).size > 1);
    const u = uniformGenerator(1);
    for (let i = 0; i < 20; i++) {
      assert.equal(
        sampleToken(logits, { temperature: 1, topK: 1, topP: 1, seed: 1 }, u),
        argmax(logits),
      );
      assert.equal(sampleToken(logits, { temperature: 1, topK: 0, topP: 0.01, seed: 1 }, u), 1);
    }
    const checkpoint = await Checkpoint.open(await tiny('olmoe'));
    const engine = await ReferenceEngine.load(checkpoint, { maxSequences: 2 });
    const { results, timing } = await generateBatch(engine, [
      { prompt: [1, 2, 3], maxTokens: 5 },
      { prompt: [9], maxTokens: 3 },
    ]);
    assert.deepEqual(
      results.map((r) => r.tokens.length),
      [5, 3],
    );
    assert.equal(timing.prefillTokens, 4);
    assert.equal(timing.decodeTokens, 4 + 2);
    await checkpoint.close();
  });
});

describe('MoE checkpoint errors', () => {
  it('unsupported architecture lists the supported ones', () => {
    assert.throws(
      () => parseModelConfig({ model_type: 'llama' }),
      /not supported: driftflow runs mixtral, qwen2_moe, qwen3_moe, olmoe/,
    );
  });

  it('a missing config field is named', async () => {
    const dir = await tiny('mixtral');
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    delete config.num_local_experts;
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await assert.rejects(Checkpoint.open(dir), /num_local_experts/);
  });

  it('a shape mismatch and a missing tensor are named', async () => {
    const dir = await tiny('olmoe');
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    config.intermediate_size = 80;
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await assert.rejects(
      Checkpoint.open(dir),
      /experts\.0\.gate_proj\.weight: shape \[96, 64\], config implies \[80, 64\]/,
    );
    config.intermediate_size = 96;
    config.num_experts = 9;
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await assert.rejects(
      Checkpoint.open(dir),
      /missing model\.layers\.0\.mlp\.experts\.8\.gate_proj\.weight/,
    );
  });

  it('a truncated shard is refused before any tensor is read', async () => {
    const dir = await tiny('qwen3_moe');
    const path = join(dir, 'model.safetensors');
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(Checkpoint.open(dir), /not a valid safetensors file/);
  });
});
