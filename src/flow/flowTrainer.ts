/**
 * One conditional-flow-matching training step for the FNO velocity field, jitted as a whole: the
 * straight path x_t = (1 - t) x0 + t x1 from noise x0 to data x1 (optionally widened by sigma_min
 * noise), the regression of v(x_t, t) onto x1 - x0 (mean squared error), its gradient and an AdamW
 * update. Which x0 goes with which x1 (independent, or the minibatch optimal-transport pairing of
 * assignment.ts) is decided on the host before the step. The input and target are per-field linear
 * mixes of x0 and x1 (diffusion.ts `pathCoefficients`), so the same step trains the DDPM baseline
 * (input √(1 − ᾱ) ε + √ᾱ x, target ε).
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
} from '../nn/adam.ts';
import { readValues } from '../nn/params.ts';
import { pathCoefficients } from './diffusion.ts';
import {
  fnoForward,
  fnoInitialValues,
  fnoParameterShapes,
  fnoParams,
  type FnoShape,
} from './fno.ts';

const np = jax.numpy;

export interface FlowTrainConfig {
  seed: number;
  batch: number;
  steps: number;
  peakLr: number;
  warmup: number;
  weightDecay: number;
  /** Std of the Gaussian widening of the path (0: exact straight paths). */
  sigmaMin: number;
  /** Decay of the exponential moving average of the weights (0: no average kept). */
  emaDecay?: number;
  /**
   * Loss in Fourier space with these per-mode weights [H, W/2 + 1] (shellLossWeights.ts);
   * absent: the pixel MSE.
   */
  lossWeights?: Float32Array<ArrayBuffer>;
}

export interface FlowTrainerState {
  params: Map<string, Float32Array>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
  ema: Map<string, Float32Array>;
}

export interface FlowBatch {
  /** Noise and data fields [B, H, W, C], row-major, paired index by index. */
  x0: Float32Array<ArrayBuffer>;
  x1: Float32Array<ArrayBuffer>;
  /** Network times [B] in [0, 1]. */
  t: Float32Array<ArrayBuffer>;
  /**
   * Per-field (a0, a1, c0, c1) [B, 4]: input a0·x0 + a1·x1, target c0·x0 + c1·x1. Default: flow
   * matching at times t.
   */
  mix?: Float32Array<ArrayBuffer>;
  /** Standard normal noise [B, H, W, C] for sigma_min (ignored when sigmaMin is 0). */
  eps?: Float32Array<ArrayBuffer>;
  size: number;
}

/**
 * The EMA decay used at a step (0-based): the configured decay, lowered early in training to
 * (1 + step) / (10 + step). Without this the average starts at the random initial weights and
 * keeps decay^steps of them: 0.999^1000 = 37% after 1000 steps, which shrinks the samples.
 */
export function emaDecayAt(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

export function createFlowTrainer(
  shape: FnoShape,
  config: FlowTrainConfig,
  initial?: Map<string, Float32Array>,
) {
  const adam: AdamConfig = { ...DEFAULT_ADAM, beta2: 0.999, weightDecay: config.weightDecay };
  const start = initial ?? fnoInitialValues(shape, config.seed);
  let params: Params = fnoParams(shape, start);
  let state: AdamState = adamInit(params);
  const decay = config.emaDecay ?? 0;
  let ema: Params = fnoParams(shape, start);

  const lossOf = (
    p: Params,
    x0: jax.Array,
    x1: jax.Array,
    t: jax.Array,
    mix: jax.Array,
    eps: jax.Array,
  ) => {
    const b = x0.shape[0]!;
    const coefficient = (k: number) => mix.ref.slice([], k).reshape([b, 1, 1, 1]);
    let xt = x0.ref.mul(coefficient(0)).add(x1.ref.mul(coefficient(1)));
    if (config.sigmaMin > 0) xt = xt.add(eps.mul(config.sigmaMin));
    else eps.dispose();
    const target = x0.mul(coefficient(2)).add(x1.mul(coefficient(3)));
    mix.dispose();
    const error = fnoForward(p, xt, t, shape).sub(target);
    if (!config.lossWeights) return np.mean(np.square(error));
    const [, h, w, c] = error.shape as [number, number, number, number];
    const spec = np.fft.rfft2(error, [1, 2]);
    const power = np.square(spec.real).add(np.square(spec.imag));
    const weights = np.array(config.lossWeights).reshape([1, h, w / 2 + 1, 1]);
    return np.sum(power.mul(weights)).mul(1 / (b * c));
  };
  const trainStep = jax.jit(
    (
      p: Params,
      st: AdamState,
      avg: Params,
      x0: jax.Array,
      x1: jax.Array,
      t: jax.Array,
      mix: jax.Array,
      eps: jax.Array,
      sc: jax.Array,
      emaWeights: jax.Array,
    ) => {
      const [loss, grads] = jax.valueAndGrad(lossOf)(jax.tree.ref(p), x0, x1, t, mix, eps);
      const up = adamUpdate(p, grads, st, sc, adam, (name) => !name.endsWith('.b'));
      // Exponential moving average of the weights (a copy of them when decay is 0); emaWeights
      // holds (d, 1 − d) with d = emaDecayAt(decay, step).
      const keep = emaWeights.ref.slice(0);
      const take = emaWeights.slice(1);
      const next: Params = {};
      for (const [name, value] of Object.entries(up.params)) {
        const old = avg[name]!;
        next[name] =
          decay > 0 ? old.mul(keep.ref).add(value.ref.mul(take.ref)) : (old.dispose(), value.ref);
      }
      keep.dispose();
      take.dispose();
      return [up.params, up.state.m, up.state.v, next, loss];
    },
  );
  const velocity = jax.jit((p: Params, x: jax.Array, t: jax.Array) => fnoForward(p, x, t, shape));

  const fields = (data: Float32Array<ArrayBuffer>, b: number, size: number) =>
    np.array(data).reshape([b, size, size, shape.channels]);

  return {
    /** One step; resolves to the loss (read back, so the step is finished). */
    step(batch: FlowBatch, step: number): { loss: Promise<number> } {
      const b = batch.t.length;
      const lr = cosineSchedule(step, config.steps, config.peakLr, config.warmup);
      const keep = emaDecayAt(decay, step);
      const [p, m, v, avg, loss] = trainStep(
        params,
        state,
        ema,
        fields(batch.x0, b, batch.size),
        fields(batch.x1, b, batch.size),
        np.array(batch.t),
        np.array(batch.mix ?? pathCoefficients('flow', batch.t).mix).reshape([b, 4]),
        batch.eps && config.sigmaMin > 0 ? fields(batch.eps, b, batch.size) : np.zeros([1]),
        adamScalars(adam, step, lr),
        np.array([keep, 1 - keep]),
      ) as [Params, Params, Params, Params, jax.Array];
      params = p;
      state = { m, v };
      ema = avg;
      return { loss: loss.data().then((d) => (d as Float32Array)[0]!) };
    },
    /** v(x, t) for fields [B, size, size, C] at one time t. */
    async velocity(
      x: Float32Array<ArrayBuffer>,
      b: number,
      size: number,
      t: number,
    ): Promise<Float32Array> {
      // The EMA weights when an average is kept.
      const weights = decay > 0 ? ema : params;
      const out = velocity(jax.tree.ref(weights), fields(x, b, size), np.full([b], t));
      return (await out.data()) as Float32Array;
    },
    /** Weights, Adam moments and EMA as plain arrays (checkpoints, export). */
    async snapshot(): Promise<FlowTrainerState> {
      const read = (record: Params) => readValues(fnoParameterShapes(shape), record);
      return {
        params: await read(params),
        m: await read(state.m),
        v: await read(state.v),
        ema: await read(ema),
      };
    },
    restore(saved: FlowTrainerState): void {
      jax.tree.dispose([params, state.m, state.v, ema]);
      params = fnoParams(shape, saved.params);
      state = { m: fnoParams(shape, saved.m), v: fnoParams(shape, saved.v) };
      ema = fnoParams(shape, saved.ema);
    },
    dispose(): void {
      jax.tree.dispose(params);
      jax.tree.dispose(state);
      jax.tree.dispose(ema);
      trainStep.dispose();
      velocity.dispose();
    },
  };
}

export type FlowTrainer = ReturnType<typeof createFlowTrainer>;
