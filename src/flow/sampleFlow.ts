/**
 * `driftflow flow sample`: draws fields from a trained FOT-CFM model at any resolution of at least
 * 2M points a side: noise from the model's Gaussian measure on that grid, integrated from t = 0 to
 * 1 through the FNO velocity with Euler, midpoint, RK4 or adaptive Dormand-Prince, then mapped
 * back to physical units with the training data's per-channel mean and std. Writes HDF5
 *   /samples  float32 [n, nx, nx, C]   root attributes: method, nfe, size, train_size, fields.
 */
import * as jax from '@jax-js/jax';
import { H5Writer } from '../io/hdf5.ts';
import { fnoForward, fnoParams } from './fno.ts';
import { sampleNoise } from './noise.ts';
import { integrate, type OdeMethod } from './odeSolvers.ts';
import { loadFlowModel } from './trainFlow.ts';

const np = jax.numpy;

export interface SampleOptions {
  model: string;
  size: number;
  count: number;
  method: OdeMethod;
  /** Fixed-step methods: steps = nfe / evaluations per step. */
  nfe: number;
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
  let steps = 0;
  if (o.method !== 'dopri5') {
    steps = o.nfe / PER_STEP[o.method];
    if (!Number.isInteger(steps) || steps < 1)
      throw new Error(
        `--nfe ${o.nfe} is not a multiple of ${o.method}'s ${PER_STEP[o.method]} evaluations per step`,
      );
  }
  const params = fnoParams(meta.shape, values);
  const C = meta.shape.channels;
  const velocity = jax.jit((p: typeof params, x: jax.Array, t: jax.Array) =>
    fnoForward(p, x, t, meta.shape),
  );
  const samples = new Float32Array(o.count * o.size * o.size * C);
  let nfe = 0;
  const started = performance.now();
  try {
    for (let at = 0; at < o.count; at += o.batch) {
      const b = Math.min(o.batch, o.count - at);
      const x0 = sampleNoise(meta.noise, o.size, b, C, o.seed * 104729 + at);
      const v = async (x: Float32Array, t: number) =>
        (await velocity(
          jax.tree.ref(params),
          np.array(x as Float32Array<ArrayBuffer>).reshape([b, o.size, o.size, C]),
          np.full([b], t),
        ).data()) as Float32Array;
      const result = await integrate(v, x0, o.method, { steps, rtol: o.rtol, atol: o.rtol / 10 });
      nfe = Math.max(nfe, result.nfe);
      const x = result.x;
      for (let i = 0; i < x.length; i++) x[i] = x[i]! * meta.std[i % C]! + meta.mean[i % C]!;
      samples.set(x, at * o.size * o.size * C);
    }
  } finally {
    jax.tree.dispose(params);
    velocity.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  if (o.out) {
    const writer = await H5Writer.create(o.out, {
      method: o.method,
      nfe,
      size: o.size,
      train_size: meta.trainSize,
      fields: meta.fields,
    });
    writer.writeDataset('/samples', { data: samples, shape: [o.count, o.size, o.size, C] });
    await writer.commit();
  }
  return { samples, nfe, seconds, fieldsPerSecond: o.count / seconds, meta };
}
