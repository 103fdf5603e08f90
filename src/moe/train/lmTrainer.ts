/**
 * The training step of the MoE language model: seeded random windows of a token stream, the loss
 * (next-token cross-entropy plus the router balance loss), its gradient and an AdamW update, all in
 * one jax-js `jit` so each step is one traced program. Batches depend only on (seed, step), so a run
 * resumed from a checkpoint sees exactly the batches an uninterrupted run would.
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
  crossEntropy,
  forward,
  initialValues,
  type LmShape,
  parameterShapes,
  ropeArrays,
  toParams,
} from './lmModel.ts';

const np = jax.numpy;

export interface LmTrainConfig {
  seed: number;
  batch: number;
  peakLr: number;
  warmup: number;
  steps: number;
  balanceCoefficient: number;
  weightDecay?: number;
}

export interface StepStats {
  loss: number;
  crossEntropy: number;
  balance: number;
  gradNorm: number;
}

export interface PendingStats {
  read(): Promise<StepStats>;
}

/** Random windows of context + 1 tokens: inputs and next-token targets [batch, context]. */
export function sampleWindows(
  stream: Int32Array,
  context: number,
  batch: number,
  seed: number,
  step: number,
): { inputs: Int32Array<ArrayBuffer>; targets: Int32Array<ArrayBuffer> } {
  if (stream.length < context + 1)
    throw new Error(
      `token stream of ${stream.length} is shorter than context + 1 = ${context + 1}`,
    );
  const uniform = uniformGenerator(seed * 1_000_003 + step);
  const inputs = new Int32Array(batch * context);
  const targets = new Int32Array(batch * context);
  for (let b = 0; b < batch; b++) {
    const start = Math.floor(uniform() * (stream.length - context - 1));
    inputs.set(stream.subarray(start, start + context), b * context);
    targets.set(stream.subarray(start + 1, start + context + 1), b * context);
  }
  return { inputs, targets };
}

const tokensArray = (data: Int32Array<ArrayBuffer>, batch: number, context: number): jax.Array =>
  np.array(data, { dtype: np.int32 }).reshape([batch, context]);

const decays = (name: string): boolean => !name.endsWith('norm.weight');

export function createLmTrainer(shape: LmShape, config: LmTrainConfig) {
  const adam: AdamConfig = { ...DEFAULT_ADAM, weightDecay: config.weightDecay ?? 0.01 };
  let params: Params = toParams(shape, initialValues(shape, config.seed));
  let state: AdamState = adamInit(params);

  const lossOf = (p: Params, inputs: jax.Array, targets: jax.Array): [jax.Array, jax.Array] => {
    const out = forward(p, inputs, shape, ropeArrays(shape, inputs.shape[1]!));
    const ce = crossEntropy(out.logits, targets, shape.vocab);
    const balance = out.balance;
    const total = ce.ref.add(balance.ref.mul(config.balanceCoefficient));
    return [total, np.stack([ce, balance])];
  };
  const trainStep = jax.jit(
    (p: Params, st: AdamState, inputs: jax.Array, targets: jax.Array, scalars: jax.Array) => {
      const [[total, parts], grads] = jax.valueAndGrad(lossOf, { hasAux: true })(
        jax.tree.ref(p),
        inputs,
        targets,
      );
      const up = adamUpdate(p, grads, st, scalars, adam, decays);
      const stats = np.concatenate([total.reshape([1]), parts, up.gradNorm.reshape([1])]);
      return [up.params, up.state.m, up.state.v, stats];
    },
  );
  const evalStep = jax.jit((p: Params, inputs: jax.Array, targets: jax.Array) => {
    const [, parts] = lossOf(p, inputs, targets);
    return parts;
  });

  return {
    /** One optimiser step on windows of `stream`; the stats are read back only when asked. */
    step(stream: Int32Array, step: number): PendingStats {
      const { inputs, targets } = sampleWindows(
        stream,
        shape.context,
        config.batch,
        config.seed,
        step,
      );
      const lr = cosineSchedule(step, config.steps, config.peakLr, config.warmup);
      const [p, m, v, stats] = trainStep(
        params,
        state,
        tokensArray(inputs, config.batch, shape.context),
        tokensArray(targets, config.batch, shape.context),
        adamScalars(adam, step, lr),
      ) as [Params, Params, Params, jax.Array];
      params = p as Params;
      state = { m: m as Params, v: v as Params };
      return {
        async read() {
          const [loss, ce, balance, gradNorm] = (await stats.data()) as Float32Array;
          return { loss: loss!, crossEntropy: ce!, balance: balance!, gradNorm: gradNorm! };
        },
      };
    },
    /** Mean cross-entropy (nats per token) over fixed windows of a held-out stream. */
    async evaluate(stream: Int32Array, windows: number, seed = 12345): Promise<number> {
      let total = 0;
      const perCall = Math.min(windows, config.batch);
      let done = 0;
      for (let call = 0; done < windows; call++) {
        const { inputs, targets } = sampleWindows(stream, shape.context, perCall, seed, call);
        const parts = evalStep(
          jax.tree.ref(params),
          tokensArray(inputs, perCall, shape.context),
          tokensArray(targets, perCall, shape.context),
        );
        total += ((await parts.data()) as Float32Array)[0]! * perCall;
        done += perCall;
      }
      return total / done;
    },
    /** Parameters, Adam moments, as plain arrays (for checkpoints and export). */
    async snapshot(): Promise<{
      params: Map<string, Float32Array>;
      m: Map<string, Float32Array>;
      v: Map<string, Float32Array>;
    }> {
      const read = (record: Params) => readValues(parameterShapes(shape), record);
      return { params: await read(params), m: await read(state.m), v: await read(state.v) };
    },
    restore(values: {
      params: Map<string, Float32Array>;
      m: Map<string, Float32Array>;
      v: Map<string, Float32Array>;
    }): void {
      jax.tree.dispose(params);
      jax.tree.dispose(state);
      params = toParams(shape, values.params);
      state = { m: toParams(shape, values.m), v: toParams(shape, values.v) };
    },
    dispose(): void {
      jax.tree.dispose(params);
      jax.tree.dispose(state);
      trainStep.dispose();
      evalStep.dispose();
    },
  };
}

export type LmTrainer = ReturnType<typeof createLmTrainer>;
