/**
 * The routing-path predictor: plain-TS incremental inference equals the jax-js forward; the route
 * metrics are right on hand-made cases; and training on a synthetic trace whose routes follow from
 * the current and previous token learns them (recall@k near 1, far above the frequency baseline,
 * and above the token-table baseline that cannot see the previous token).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as jax from '@jax-js/jax';
import { RoutePredictor } from '../../../src/moe/predictor/predictorInfer.ts';
import {
  predictorForward,
  predictorInitialValues,
  predictorParams,
  type PredictorShape,
} from '../../../src/moe/predictor/predictorModel.ts';
import { createPredictorTrainer } from '../../../src/moe/predictor/predictorTrainer.ts';
import {
  frequencyScorer,
  type RouteExamples,
  scoreRoutes,
  tokenTableScorer,
} from '../../../src/moe/predictor/routeMetrics.ts';
import { uniformGenerator } from '../../../src/spectral/random.ts';

const np = jax.numpy;

/** Routes that depend on the token and the one before it (seeded, deterministic). */
function syntheticExamples(sequences: number, length: number, seed: number): RouteExamples {
  const L = 2;
  const E = 6;
  const K = 2;
  const uniform = uniformGenerator(seed);
  const data: RouteExamples = { numExperts: E, topK: K, moeLayers: L, sequences: [] };
  for (let s = 0; s < sequences; s++) {
    const tokens = Array.from({ length }, () => Math.floor(uniform() * 10));
    const experts = new Uint16Array(length * L * K);
    tokens.forEach((tok, t) => {
      const prev = t > 0 ? tokens[t - 1]! : 0;
      for (let l = 0; l < L; l++) {
        const a = (tok + 2 * l) % E;
        const b = (a + 1 + ((prev + l) % (E - 1))) % E; // never equal to a
        experts.set([a, b], (t * L + l) * K);
      }
    });
    data.sequences.push({ tokens, promptLength: 4, experts, domain: 'synthetic' });
  }
  return data;
}

describe('routing-path predictor', () => {
  before(async () => {
    await jax.init('wasm');
    jax.defaultDevice('wasm');
  });

  it('plain-TS incremental inference equals the jax-js forward', async () => {
    const shape: PredictorShape = {
      vocab: 20,
      width: 16,
      layers: 2,
      heads: 2,
      ffn: 24,
      maxPositions: 12,
      moeLayers: 3,
      experts: 4,
    };
    const values = predictorInitialValues(shape, 5);
    const tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    const logits = (await predictorForward(
      predictorParams(shape, values),
      np.array(Int32Array.from(tokens), { dtype: np.int32 }).reshape([1, tokens.length]),
      shape,
    ).data()) as Float32Array;
    const probs = new RoutePredictor(shape, values).predict(tokens);
    const LE = shape.moeLayers * shape.experts;
    let worst = 0;
    probs.forEach((p, t) =>
      p.forEach((v, i) => {
        const expected = 1 / (1 + Math.exp(-logits[t * LE + i]!));
        worst = Math.max(worst, Math.abs(v - expected));
      }),
    );
    assert.ok(worst < 1e-5, `max probability difference ${worst}`);
  });

  it('scores recall and precision per layer at k, 1.5k and 2k', () => {
    // One token, one layer, 4 experts, k = 2, truth {1, 3}.
    const data: RouteExamples = {
      numExperts: 4,
      topK: 2,
      moeLayers: 1,
      sequences: [{ tokens: [7], promptLength: 0, experts: Uint16Array.from([3, 1]), domain: 'x' }],
    };
    // Ranking 3 > 0 > 1 > 2: top-2 {3, 0} hits 1; top-3 {3, 0, 1} hits 2; top-4 hits 2.
    const score = scoreRoutes(data, () => [[0.5, 0.4, 0.1, 0.9]]);
    assert.deepEqual(score.recall, { 2: 0.5, 3: 1, 4: 1 });
    assert.deepEqual(score.precision, { 2: 0.5, 3: 2 / 3, 4: 0.5 });
  });

  it('learns synthetic routes that depend on context', async () => {
    const train = syntheticExamples(96, 16, 1);
    const test = syntheticExamples(24, 16, 2);
    const shape: PredictorShape = {
      vocab: 10,
      width: 32,
      layers: 1,
      heads: 2,
      ffn: 64,
      maxPositions: 16,
      moeLayers: 2,
      experts: 6,
    };
    const trainer = createPredictorTrainer(shape, {
      seed: 0,
      batch: 16,
      steps: 250,
      peakLr: 1e-2,
      warmup: 20,
      weightDecay: 0,
    });
    for (let step = 0; step < 250; step++) await trainer.step(train, step, 16);
    const probs = await trainer.predictAll(test, 16);
    trainer.dispose();
    const learned = scoreRoutes(test, (s) => probs[s]!).recall[2]!;
    const table = scoreRoutes(test, tokenTableScorer(train, test)).recall[2]!;
    const frequency = scoreRoutes(test, frequencyScorer(train, test)).recall[2]!;
    assert.ok(learned > 0.95, `learned recall@k ${learned}`);
    assert.ok(learned > table + 0.1, `learned ${learned} vs token table ${table}`);
    assert.ok(frequency < 0.5, `frequency baseline ${frequency}`);
  });
});
