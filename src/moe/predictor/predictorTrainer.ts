/**
 * Training of the routing-path predictor on recorded traces: seeded minibatches of whole sequences
 * (padded, with a mask), masked BCE against each token's true top-k sets at every MoE layer, AdamW,
 * all in one jax-js `jit`; and batched jax-js inference for evaluation.
 */
import * as jax from '@jax-js/jax';
import {
  type AdamConfig,
  adamInit,
  adamScalars,
  type AdamState,
  adamUpdate,
  cosineSchedule,
  DEFAULT_ADAM,
  type Params,
} from '../../nn/adam.ts';
import { readValues } from '../../nn/params.ts';
import { uniformGenerator } from '../../spectral/random.ts';
import {
  predictorForward,
  predictorInitialValues,
  predictorLoss,
  predictorParameterShapes,
  predictorParams,
  type PredictorShape,
} from './predictorModel.ts';
import type { RouteExamples } from './routeMetrics.ts';

const np = jax.numpy;

export interface PredictorTrainConfig {
  seed: number;
  batch: number;
  steps: number;
  peakLr: number;
  warmup: number;
  weightDecay: number;
}

interface Batch {
  tokens: Int32Array<ArrayBuffer>;
  targets: Float32Array<ArrayBuffer>;
  mask: Float32Array<ArrayBuffer>;
  length: number;
}

/** Pads sequences `picks` of `data` to `length` (tokens, multi-hot targets, mask). */
export function makeBatch(data: RouteExamples, picks: number[], length: number): Batch {
  const { moeLayers: L, numExperts: E, topK: K } = data;
  const tokens = new Int32Array(picks.length * length);
  const targets = new Float32Array(picks.length * length * L * E);
  const mask = new Float32Array(picks.length * length);
  picks.forEach((s, b) => {
    const seq = data.sequences[s]!;
    const n = Math.min(length, seq.tokens.length);
    for (let t = 0; t < n; t++) {
      tokens[b * length + t] = seq.tokens[t]!;
      mask[b * length + t] = 1;
      for (let l = 0; l < L; l++)
        for (let j = 0; j < K; j++) {
          const e = seq.experts[(t * L + l) * K + j]!;
          targets[((b * length + t) * L + l) * E + e] = 1;
        }
    }
  });
  return { tokens, targets, mask, length };
}

export function createPredictorTrainer(
  shape: PredictorShape,
  config: PredictorTrainConfig,
  initial?: Map<string, Float32Array>,
) {
  const adam: AdamConfig = { ...DEFAULT_ADAM, weightDecay: config.weightDecay };
  let params: Params = predictorParams(
    shape,
    initial ?? predictorInitialValues(shape, config.seed),
  );
  let state: AdamState = adamInit(params);
  const LE = shape.moeLayers * shape.experts;

  const lossOf = (p: Params, tokens: jax.Array, targets: jax.Array, mask: jax.Array) =>
    predictorLoss(predictorForward(p, tokens, shape), targets, mask);
  const trainStep = jax.jit(
    (
      p: Params,
      st: AdamState,
      tokens: jax.Array,
      targets: jax.Array,
      mask: jax.Array,
      sc: jax.Array,
    ) => {
      const [loss, grads] = jax.valueAndGrad(lossOf)(jax.tree.ref(p), tokens, targets, mask);
      const up = adamUpdate(p, grads, st, sc, adam, (name) => !name.includes('norm'));
      return [up.params, up.state.m, up.state.v, loss];
    },
  );
  const infer = jax.jit((p: Params, tokens: jax.Array) =>
    jax.nn.sigmoid(predictorForward(p, tokens, shape)),
  );
  const arrays = (b: Batch, rows: number) => ({
    tokens: np.array(b.tokens, { dtype: np.int32 }).reshape([rows, b.length]),
    targets: np.array(b.targets).reshape([rows, b.length, LE]),
    mask: np.array(b.mask).reshape([rows, b.length]),
  });

  return {
    /** One step on a seeded random minibatch; resolves to the loss. */
    async step(data: RouteExamples, step: number, length: number): Promise<number> {
      const uniform = uniformGenerator(config.seed * 7919 + step);
      const picks = Array.from({ length: config.batch }, () =>
        Math.floor(uniform() * data.sequences.length),
      );
      const a = arrays(makeBatch(data, picks, length), config.batch);
      const lr = cosineSchedule(step, config.steps, config.peakLr, config.warmup);
      const [p, m, v, loss] = trainStep(
        params,
        state,
        a.tokens,
        a.targets,
        a.mask,
        adamScalars(adam, step, lr),
      ) as [Params, Params, Params, jax.Array];
      params = p;
      state = { m, v };
      return ((await loss.data()) as Float32Array)[0]!;
    },
    /** Route probabilities [T][L*E] for every sequence of `data` (batched jax-js inference). */
    async predictAll(data: RouteExamples, length: number): Promise<Float32Array[][]> {
      const out: Float32Array[][] = [];
      for (let start = 0; start < data.sequences.length; start += config.batch) {
        const picks = Array.from(
          { length: Math.min(config.batch, data.sequences.length - start) },
          (_, i) => start + i,
        );
        const { tokens } = arrays(makeBatch(data, picks, length), picks.length);
        const probs = (await infer(jax.tree.ref(params), tokens).data()) as Float32Array;
        picks.forEach((s, b) => {
          const n = Math.min(length, data.sequences[s]!.tokens.length);
          out.push(
            Array.from({ length: n }, (_, t) =>
              probs.slice((b * length + t) * LE, (b * length + t + 1) * LE),
            ),
          );
        });
      }
      return out;
    },
    values: (): Promise<Map<string, Float32Array>> =>
      readValues(predictorParameterShapes(shape), params),
    dispose(): void {
      jax.tree.dispose(params);
      jax.tree.dispose(state);
      trainStep.dispose();
      infer.dispose();
    },
  };
}
