/**
 * Adam with decoupled weight decay (AdamW) and global-norm gradient clipping, for jax-js parameter
 * records. jax-js ships no optimiser package on npm, so this is the one every trainer in driftflow
 * uses (the MoE language model, the routing predictor). `adamUpdate` is pure and follows jax-js's
 * ownership rules (it consumes params, grads and state), so a whole training step -- loss, grad and
 * update -- can sit inside one `jit`.
 */
import * as jax from '@jax-js/jax';

const np = jax.numpy;

export type Params = Record<string, jax.Array>;

export interface AdamState {
  m: Params;
  v: Params;
}

export interface AdamConfig {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay applied to tensors whose name `decay` accepts. */
  weightDecay: number;
  /** Clip the global gradient norm to this value (Infinity: no clipping). */
  clipNorm: number;
}

export const DEFAULT_ADAM: AdamConfig = {
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0,
  clipNorm: 1,
};

export function adamInit(params: Params): AdamState {
  const m: Params = {};
  const v: Params = {};
  for (const [name, p] of Object.entries(params)) {
    m[name] = np.zerosLike(p.ref);
    v[name] = np.zerosLike(p.ref);
  }
  return { m, v };
}

/**
 * Step-dependent scalars, passed as arrays so a jitted step is traced once:
 * `lr` and the bias corrections 1 - beta^t.
 */
export function adamScalars(config: AdamConfig, step: number, lr: number): jax.Array {
  const t = step + 1;
  return np.array([lr, 1 - config.beta1 ** t, 1 - config.beta2 ** t]);
}

/**
 * Sum of squares, in two reduction stages for large tensors (jax-js reduces a whole tensor to one
 * value with a single thread: 1 M values took about 1 ms on the H100).
 */
function sumOfSquares(g: jax.Array): jax.Array {
  const n = g.size;
  const parts = n >= 65536 && n % 256 === 0 ? 256 : 1;
  return np.sum(np.sum(np.square(g.reshape([parts, n / parts])), 1));
}

/** Global L2 norm of all gradients (does not consume them). */
export function globalNorm(grads: Params): jax.Array {
  let total: jax.Array | null = null;
  for (const g of Object.values(grads)) {
    const s = sumOfSquares(g.ref);
    total = total === null ? s : total.add(s);
  }
  return np.sqrt(total ?? np.array(0));
}

/**
 * One AdamW update. Returns new params, new state and the gradient norm before clipping.
 * `decay(name)` says which tensors get weight decay (usually matrices, not norms).
 */
export function adamUpdate(
  params: Params,
  grads: Params,
  state: AdamState,
  scalars: jax.Array,
  config: AdamConfig,
  decay: (name: string) => boolean = () => true,
): { params: Params; state: AdamState; gradNorm: jax.Array } {
  const norm = globalNorm(grads);
  const clip = Number.isFinite(config.clipNorm)
    ? np.minimum(np.array(1), np.array(config.clipNorm).div(norm.ref.add(1e-6)))
    : np.array(1);
  const lr = scalars.ref.slice([0, 1]).reshape([]);
  const correct1 = scalars.ref.slice([1, 2]).reshape([]);
  const correct2 = scalars.slice([2, 3]).reshape([]);
  const out: Params = {};
  const m: Params = {};
  const v: Params = {};
  for (const [name, p] of Object.entries(params)) {
    const g = grads[name]!.mul(clip.ref);
    const mNew = state.m[name]!.mul(config.beta1).add(g.ref.mul(1 - config.beta1));
    const vNew = state.v[name]!.mul(config.beta2).add(np.square(g).mul(1 - config.beta2));
    const mHat = mNew.ref.div(correct1.ref);
    const vHat = vNew.ref.div(correct2.ref);
    let step = mHat.div(np.sqrt(vHat).add(config.eps));
    if (config.weightDecay > 0 && decay(name)) step = step.add(p.ref.mul(config.weightDecay));
    out[name] = p.sub(step.mul(lr.ref));
    m[name] = mNew;
    v[name] = vNew;
  }
  clip.dispose();
  lr.dispose();
  correct1.dispose();
  correct2.dispose();
  return { params: out, state: { m, v }, gradNorm: norm };
}

/** Linear warm-up then cosine decay to `minFraction` of the peak. */
export function cosineSchedule(
  step: number,
  total: number,
  peak: number,
  warmup: number,
  minFraction = 0.1,
): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return peak * (minFraction + (1 - minFraction) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
