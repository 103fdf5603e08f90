/**
 * `driftflow flow sample`: draws fields from a trained FOT-CFM model at any resolution of at least
 * 2M points a side: noise from the model's Gaussian measure on that grid, integrated from t = 0 to
 * 1 through the FNO velocity with Euler, midpoint, RK4 or adaptive Dormand-Prince, then mapped
 * back to physical units with the training data's per-channel mean and std. Fixed-step methods also
 * measure the straightness of the sampled paths (odeSolvers.ts). Writes HDF5
 *   /samples  float32 [n, nx, nx, C]   root attributes: method, nfe, size, train_size, fields,
 *                                       time_grid and straightness (fixed-step methods).
 * A DDPM baseline model (diffusion.ts) samples with `ddpm` or `ddim` in NFE steps, from white noise
 * on its training grid only, clipping x0 to the training range its file records.
 */
import * as jax from '@jax-js/jax';
import { H5Writer } from '../io/hdf5.ts';
import { fnoForward, fnoParams } from './fno.ts';
import { sampleNoise } from './noise.ts';
import { DIFFUSION_SAMPLERS, type DiffusionSampler, sampleDiffusion } from './diffusion.ts';
import {
  integrate,
  ODE_METHODS,
  type OdeMethod,
  straightnessMeter,
  type TimeGrid,
} from './odeSolvers.ts';
import { whiteNoise } from '../spectral/random.ts';
import { loadFlowModel } from './trainFlow.ts';

const np = jax.numpy;

export interface SampleOptions {
  model: string;
  size: number;
  count: number;
  method: OdeMethod | DiffusionSampler;
  /** Fixed-step methods: steps = nfe / evaluations per step. */
  nfe: number;
  /** Fixed-step methods: where the steps go on [0, 1] (default uniform). */
  timeGrid?: TimeGrid;
  rtol: number;
  seed: number;
  batch: number;
  out?: string;
}

const PER_STEP: Record<Exclude<OdeMethod, 'dopri5'>, number> = { euler: 1, midpoint: 2, rk4: 4 };

export async function sampleFlow(o: SampleOptions) {
  const { meta, values } = await loadFlowModel(o.model);
  if (o.size < 2 * meta.shape.modes)
    throw new Error(
      `--nx ${o.size} is too small for the model's ${meta.shape.modes} modes: use at least ${2 * meta.shape.modes}`,
    );
  const diffusion = meta.objective === 'ddpm';
  const allowed: readonly string[] = diffusion ? DIFFUSION_SAMPLERS : ODE_METHODS;
  if (!allowed.includes(o.method))
    throw new Error(
      `--method ${o.method} does not sample a ${diffusion ? 'DDPM' : 'flow-matching'} model: use ${allowed.join(' | ')}`,
    );
  if (diffusion && o.size !== meta.trainSize)
    throw new Error(
      `the DDPM baseline lives on its ${meta.trainSize}² training grid (white noise has no other resolution): use --nx ${meta.trainSize}`,
    );
  let steps = 0;
  if (o.method === 'euler' || o.method === 'midpoint' || o.method === 'rk4') {
    steps = o.nfe / PER_STEP[o.method];
    if (!Number.isInteger(steps) || steps < 1)
      throw new Error(
        `--nfe ${o.nfe} is not a multiple of ${o.method}'s ${PER_STEP[o.method]} evaluations per step`,
      );
  }
  // Only fixed-step methods have a time grid.
  const timeGrid = steps > 0 ? (o.timeGrid ?? 'uniform') : null;
  const params = fnoParams(meta.shape, values);
  const C = meta.shape.channels;
  const velocity = jax.jit((p: typeof params, x: jax.Array, t: jax.Array) =>
    fnoForward(p, x, t, meta.shape),
  );
  const samples = new Float32Array(o.count * o.size * o.size * C);
  let nfe = 0;
  const straightness: number[] = [];
  const started = performance.now();
  try {
    for (let at = 0; at < o.count; at += o.batch) {
      const b = Math.min(o.batch, o.count - at);
      const seed = o.seed * 104729 + at;
      const points = b * o.size * o.size * C;
      const x0 = diffusion
        ? Float32Array.from(whiteNoise(points, seed))
        : sampleNoise(meta.noise, o.size, b, C, seed);
      const v = async (x: Float32Array, t: number) =>
        (await velocity(
          jax.tree.ref(params),
          np.array(x as Float32Array<ArrayBuffer>).reshape([b, o.size, o.size, C]),
          np.full([b], t),
        ).data()) as Float32Array;
      let x: Float32Array;
      if (o.method === 'ddpm' || o.method === 'ddim') {
        x = await sampleDiffusion(v, x0, o.method, o.nfe, seed + 1, meta.range);
        nfe = o.nfe;
      } else {
        const meter = straightnessMeter(b);
        const result = await integrate(v, x0, o.method, {
          steps,
          grid: timeGrid ?? undefined,
          rtol: o.rtol,
          atol: o.rtol / 10,
          onEvaluation: meter.hook,
        });
        nfe = Math.max(nfe, result.nfe);
        x = result.x;
        if (o.method !== 'dopri5') straightness.push(...meter.finish(x0, x));
      }
      for (let i = 0; i < x.length; i++) x[i] = x[i]! * meta.std[i % C]! + meta.mean[i % C]!;
      samples.set(x, at * o.size * o.size * C);
    }
  } finally {
    jax.tree.dispose(params);
    velocity.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  const meanStraightness = straightness.length
    ? straightness.reduce((a, b) => a + b, 0) / straightness.length
    : null;
  if (o.out) {
    const writer = await H5Writer.create(o.out, {
      method: o.method,
      nfe,
      ...(timeGrid === null ? {} : { time_grid: timeGrid }),
      size: o.size,
      train_size: meta.trainSize,
      fields: meta.fields,
      ...(meanStraightness === null ? {} : { straightness: meanStraightness }),
    });
    writer.writeDataset('/samples', { data: samples, shape: [o.count, o.size, o.size, C] });
    await writer.commit();
  }
  return {
    samples,
    nfe,
    seconds,
    fieldsPerSecond: o.count / seconds,
    straightness: meanStraightness,
    timeGrid,
    meta,
  };
}
