/**
 * The jax-js MoE language model against the engine's plain-TS Mixtral forward: a model written
 * with toHfTensors/writeLmModel must give the same logits and the same routed experts when the
 * engine loads it as a checkpoint (this pins RoPE, GQA head grouping, router top-k and
 * renormalisation, SwiGLU and the HF tensor layout). Also: a few jitted AdamW steps learn a
 * repetitive sequence.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as jax from '@jax-js/jax';
import { openModel } from '../../../src/moe/open.ts';
import { LM_VOCAB, writeLmModel } from '../../../src/moe/train/lmExport.ts';
import {
  forward,
  initialValues,
  type LmShape,
  ropeArrays,
  toParams,
} from '../../../src/moe/train/lmModel.ts';
import { createLmTrainer } from '../../../src/moe/train/lmTrainer.ts';
import { trainLm } from '../../../src/moe/train/trainLm.ts';

const np = jax.numpy;
const shape: LmShape = {
  vocab: LM_VOCAB,
  hidden: 32,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  experts: 4,
  topK: 2,
  intermediate: 48,
  context: 16,
  ropeTheta: 10000,
  rmsEps: 1e-6,
};

describe('MoE language model (jax-js)', () => {
  let dir: string;
  before(async () => {
    await jax.init('wasm');
    jax.defaultDevice('wasm');
    dir = await mkdtemp(join(tmpdir(), 'lm-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('matches the engine forward (logits and routes) after saving in the Mixtral layout', async () => {
    const values = initialValues(shape, 3);
    // A decisive router, so f16 rounding in the engine cannot flip a near-tie.
    for (let l = 0; l < shape.layers; l++) {
      const gate = values.get(`model.layers.${l}.block_sparse_moe.gate.weight`)!;
      gate.forEach((v, i) => (gate[i] = 4 * v));
    }
    await writeLmModel(dir, shape, values);
    const text = 'The jury said.';
    const tokens = Array.from(Buffer.from(text, 'utf8'));
    const t = tokens.length;
    const result = forward(
      toParams(shape, values),
      np.array(Int32Array.from(tokens), { dtype: np.int32 }).reshape([1, t]),
      shape,
      ropeArrays(shape, t),
      true,
    );
    result.balance.dispose();
    const logits = (await result.logits.data()) as Float32Array;
    const masks = await Promise.all(
      result.masks.map(async (m) => (await m.data()) as Float32Array),
    );

    const model = await openModel({
      model: dir,
      device: 'wasm',
      policy: 'all-gpu',
      maxSequences: 1,
      maxContext: 64,
    });
    try {
      assert.deepEqual(model.tokenizer.encode(text), tokens, 'byte tokenizer: ids are UTF-8 bytes');
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < t; i++) {
        const routes: number[][][] = [];
        const [engineLogits] = await model.engine.step(
          [{ slot: 0, tokens: [tokens[i]!] }],
          (layer, r) => routes.push(r.map((route) => [...route.experts].sort((a, b) => a - b))),
        );
        for (let v = 0; v < shape.vocab; v++) {
          const mine = logits[i * shape.vocab + v]!;
          worst = Math.max(worst, Math.abs(mine - engineLogits![v]!));
          scale = Math.max(scale, Math.abs(mine));
        }
        for (let l = 0; l < shape.layers; l++) {
          const chosen: number[] = [];
          for (let e = 0; e < shape.experts; e++)
            if (masks[l]![i * shape.experts + e] === 1) chosen.push(e);
          assert.deepEqual(routes[l]![0], chosen, `token ${i} layer ${l}`);
        }
      }
      // The engine holds f16-rounded matrices: agreement to f16 precision, not bit-exact.
      assert.ok(worst < 1e-2 * scale, `max logit difference ${worst} vs scale ${scale}`);
    } finally {
      await model.close();
    }
  });

  it('learns a repeating sequence in a few jitted AdamW steps', async () => {
    const pattern = Array.from(Buffer.from('abcabd '));
    const stream = Int32Array.from({ length: 400 }, (_, i) => pattern[i % pattern.length]!);
    const trainer = createLmTrainer(shape, {
      seed: 1,
      batch: 4,
      peakLr: 1e-2,
      warmup: 5,
      steps: 40,
      balanceCoefficient: 0.01,
    });
    const losses: number[] = [];
    for (let step = 0; step < 40; step++)
      losses.push((await trainer.step(stream, step).read()).loss);
    trainer.dispose();
    assert.ok(losses[0]! > 4, `initial loss ${losses[0]} near ln(${LM_VOCAB})`);
    assert.ok(losses[39]! < 0.5, `final loss ${losses[39]}`);
  });
});

describe('train-lm run', () => {
  it('a run stopped and resumed from its checkpoint ends with the same weights as one run', async () => {
    await jax.init('wasm');
    jax.defaultDevice('wasm');
    const root = await mkdtemp(join(tmpdir(), 'lm-run-'));
    try {
      const options = (out: string) => ({
        out,
        shape: { ...shape, context: 16 },
        train: { seed: 2, batch: 2, peakLr: 3e-3, warmup: 2, steps: 4, balanceCoefficient: 0.01 },
        resume: true,
        evalEvery: 2,
        evalWindows: 2,
        checkpointEvery: 2,
      });
      await trainLm(options(join(root, 'whole')));
      const first = await trainLm({ ...options(join(root, 'split')), maxStepsThisRun: 3 });
      assert.equal(first.finished, false);
      const second = await trainLm(options(join(root, 'split')));
      assert.equal(second.finished, true);
      const whole = await readFile(join(root, 'whole', 'model.safetensors'));
      const split = await readFile(join(root, 'split', 'model.safetensors'));
      assert.ok(whole.equals(split), 'resumed weights differ from the uninterrupted run');
      await assert.rejects(
        trainLm({ ...options(join(root, 'whole')), resume: false }),
        /already holds a training run/,
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
