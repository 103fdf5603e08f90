// Routing traces: recorded while generating in batches, written to HDF5 and read back unchanged,
// and every stored route equals what the router chooses when the sequence's tokens are run again
// in one prefill on a fresh engine (an independent pass; only MoE layers are stored).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Checkpoint } from '../../src/moe/checkpoint.ts';
import type { TokenRoute } from '../../src/moe/engine.ts';
import { ReferenceEngine } from '../../src/moe/reference.ts';
import { makeTinyModel } from '../../src/moe/tiny.ts';
import { readTrace, recordTrace, writeTrace } from '../../src/moe/trace.ts';
import { assertAllclose } from '../helpers/allclose.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'driftflow-trace-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('routing traces', () => {
  it('qwen3 (dense layer 0): batched recording round-trips through HDF5 and matches a fresh prefill', async () => {
    const dir = join(root, 'qwen3');
    await makeTinyModel({ arch: 'qwen3_moe', out: dir, seed: 9 });
    const checkpoint = await Checkpoint.open(dir);
    const spec = checkpoint.spec;
    const engine = await ReferenceEngine.load(checkpoint, { maxSequences: 2, maxPositions: 64 });
    const requests = [
      { prompt: [5, 77, 130], maxTokens: 4, domain: 'news' },
      { prompt: [9, 200, 31, 4, 4, 8], maxTokens: 2, domain: 'fiction' },
      // Teacher forcing: the continuation is fed instead of generated tokens.
      { prompt: [250, 3], maxTokens: 5, domain: 'news', forced: [11, 12, 13, 14, 15] },
    ];
    const trace = await recordTrace(engine, 'tiny', requests);
    const moeLayers = spec.layerKinds.flatMap((k, l) => (k === 'moe' ? [l] : []));
    assert.deepEqual(trace.moeLayers, moeLayers);
    assert.ok(!moeLayers.includes(0));
    const path = join(root, 'trace.h5');
    await writeTrace(path, trace);
    const back = await readTrace(path);
    assert.deepEqual(back, trace);
    assert.deepEqual(back.sequences[2]!.tokens, [250, 3, 11, 12, 13, 14]);

    const L = moeLayers.length;
    const K = spec.topK;
    for (const [s, sequence] of back.sequences.entries()) {
      assert.equal(sequence.domain, requests[s]!.domain);
      assert.equal(sequence.tokens.length, requests[s]!.prompt.length + requests[s]!.maxTokens - 1);
      const fresh = await ReferenceEngine.load(checkpoint, { maxSequences: 1, maxPositions: 64 });
      const routes = new Map<number, TokenRoute[]>();
      await fresh.step([{ slot: 0, tokens: sequence.tokens }], (layer, got) =>
        routes.set(layer, got),
      );
      const experts = new Uint16Array(sequence.tokens.length * L * K);
      const weights = new Float32Array(sequence.tokens.length * L * K);
      moeLayers.forEach((layer, i) =>
        routes.get(layer)!.forEach((route, position) => {
          experts.set(route.experts, (position * L + i) * K);
          weights.set(route.weights, (position * L + i) * K);
        }),
      );
      assert.deepEqual(sequence.experts, experts);
      assertAllclose(sequence.weights, weights, { rtol: 1e-5, atol: 1e-6 });
    }
    await checkpoint.close();
  });

  it('refuses a file that is not a trace', async () => {
    const dir = join(root, 'not-a-trace');
    const { H5Writer } = await import('../../src/io/hdf5.ts');
    const writer = await H5Writer.create(join(dir, 'x.h5'), { model: 'x' });
    await writer.commit();
    await assert.rejects(readTrace(join(dir, 'x.h5')), /not a driftflow routing trace/);
  });
});
