/**
 * The grid-based diffusion baseline of FOT-CFM (issue 6, baseline ii): DDPM (Ho et al. 2020) with
 * the same FNO as the flow models, here predicting the white noise ε that was added. It lives on
 * the training grid: noise is N(0, 1) independently at every grid point, which is not a measure
 * on functions, so unlike the flow models it has no meaning at another resolution.
 *   forward process  x_t = √ᾱ_t x + √(1 − ᾱ_t) ε, linear β from 1e-4 to 0.02 over T = 1000 steps
 *   network time     t / T
 *   sampling         K of the T steps (evenly respaced, K = NFE): ancestral DDPM with the respaced
 *                    β, or deterministic DDIM (η = 0); the predicted x0 is clipped to the
 *                    training data's range per channel, as in Ho et al.'s sampler, because at the
 *                    noisiest steps it divides the ε error by √ᾱ_T ≈ 0.006.
 * Training shares the flow-matching step: both regress the network onto c0·x0 + c1·x1 at the input
 * a0·x0 + a1·x1 (x0 noise, x1 data), with per-field coefficients from `pathCoefficients`.
 */
import { normalGenerator } from '../spectral/random.ts';

export const DIFFUSION_STEPS = 1000;
export const DIFFUSION_SAMPLERS = ['ddpm', 'ddim'] as const;
export type DiffusionSampler = (typeof DIFFUSION_SAMPLERS)[number];
export type Objective = 'flow' | 'ddpm';

let alphaBarTable: Float64Array | undefined;
/** ᾱ_t for t = 0..T (ᾱ_0 = 1). */
export function alphaBar(t: number): number {
  if (!alphaBarTable) {
    alphaBarTable = new Float64Array(DIFFUSION_STEPS + 1);
    alphaBarTable[0] = 1;
    for (let s = 1; s <= DIFFUSION_STEPS; s++) {
      const beta = 1e-4 + ((0.02 - 1e-4) * (s - 1)) / (DIFFUSION_STEPS - 1);
      alphaBarTable[s] = alphaBarTable[s - 1]! * (1 - beta);
    }
  }
  return alphaBarTable[t]!;
}

/**
 * Per-field coefficients [B, 4] = (a0, a1, c0, c1) of the training regression and the network
 * times [B]. Flow matching: input (1 − t) x0 + t x1, target x1 − x0, time t ∈ [0, 1] (`draws`).
 * DDPM: input √(1 − ᾱ) ε + √ᾱ x, target ε, integer step t = 1 + ⌊draw·T⌋, time t / T.
 */
export function pathCoefficients(objective: Objective, draws: Float32Array) {
  const b = draws.length;
  const mix = new Float32Array(4 * b);
  const time = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const u = draws[i]!;
    if (objective === 'flow') {
      mix.set([1 - u, u, -1, 1], 4 * i);
      time[i] = u;
    } else {
      const t = Math.min(DIFFUSION_STEPS, 1 + Math.floor(u * DIFFUSION_STEPS));
      const ab = alphaBar(t);
      mix.set([Math.sqrt(1 - ab), Math.sqrt(ab), 1, 0], 4 * i);
      time[i] = t / DIFFUSION_STEPS;
    }
  }
  return { mix, time };
}

/** K diffusion steps from T down to 1, evenly spaced (the respacing of improved DDPM). */
export function respacedSteps(k: number): number[] {
  if (!Number.isInteger(k) || k < 1 || k > DIFFUSION_STEPS)
    throw new Error(`${k} sampling steps: use 1..${DIFFUSION_STEPS}`);
  return Array.from({ length: k }, (_, i) =>
    Math.round(DIFFUSION_STEPS - (i * (DIFFUSION_STEPS - 1)) / Math.max(1, k - 1)),
  );
}

/** Predicted noise ε(x, t/T) of a batch (flat Float32Array, the sampler's state layout). */
export type NoisePredictor = (x: Float32Array, time: number) => Promise<Float32Array>;

/**
 * Samples from white noise x_T in K = nfe network evaluations. Returns the data-space fields
 * (the last step returns the predicted x_0). With `clip`, per-channel [min, max] of a
 * channels-last state, each predicted x_0 is clipped to it.
 */
export async function sampleDiffusion(
  predict: NoisePredictor,
  xT: Float32Array,
  sampler: DiffusionSampler,
  nfe: number,
  seed: number,
  clip?: [number, number][],
): Promise<Float32Array> {
  const C = clip?.length ?? 1;
  const steps = respacedSteps(nfe);
  const normal = normalGenerator(seed);
  let x = xT;
  for (let i = 0; i < steps.length; i++) {
    const t = steps[i]!;
    const previous = steps[i + 1] ?? 0;
    const ab = alphaBar(t);
    const abPrev = alphaBar(previous);
    const eps = await predict(x, t / DIFFUSION_STEPS);
    const next = new Float32Array(x.length);
    // β of the respaced chain from t to `previous`.
    const beta = 1 - ab / abPrev;
    const keep = Math.sqrt(1 - ab);
    for (let j = 0; j < x.length; j++) {
      let x0 = (x[j]! - keep * eps[j]!) / Math.sqrt(ab);
      if (clip) {
        const [low, high] = clip[j % C]!;
        x0 = Math.min(high, Math.max(low, x0));
      }
      if (previous === 0) next[j] = x0;
      else if (sampler === 'ddim')
        next[j] = Math.sqrt(abPrev) * x0 + Math.sqrt(1 - abPrev) * eps[j]!;
      else {
        const mean =
          ((Math.sqrt(abPrev) * beta) / (1 - ab)) * x0 +
          ((Math.sqrt(1 - beta) * (1 - abPrev)) / (1 - ab)) * x[j]!;
        next[j] = mean + Math.sqrt((beta * (1 - abPrev)) / (1 - ab)) * normal();
      }
    }
    x = next;
  }
  return x;
}
