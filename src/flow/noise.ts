/**
 * FOT-CFM's noise measure: Gaussian random fields with covariance sigma²(tau² - Delta)^(-alpha) on
 * the periodic unit square (alpha > 1, so samples are in L² in 2-D), drawn spectrally at any
 * resolution by spectral/grf.ts and returned as real fields, channels-last [count, n, n, C].
 * `unitSigma` picks sigma so the pointwise variance is 1 (the continuum value, nearly reached on
 * any grid since the spectrum decays).
 */
import { type GrfParams, sampleGrf } from '../spectral/grf.ts';
import { unitSquareTransforms } from './unitSquare.ts';

export interface NoiseMeasure {
  tau: number;
  alpha: number;
  /** Amplitude; default: unit pointwise variance. */
  sigma?: number;
}

/** sigma giving unit pointwise variance: 1 / sum over k != 0 of (|2 pi k|² + tau²)^(-alpha). */
export function unitSigma(tau: number, alpha: number, cutoff = 512): number {
  if (!(alpha > 1)) throw new Error(`alpha = ${alpha}: the noise measure needs alpha > 1 in 2-D`);
  let sum = 0;
  for (let ky = -cutoff; ky <= cutoff; ky++)
    for (let kx = -cutoff; kx <= cutoff; kx++) {
      if (kx === 0 && ky === 0) continue;
      sum += ((2 * Math.PI) ** 2 * (kx * kx + ky * ky) + tau * tau) ** -alpha;
    }
  return 1 / Math.sqrt(sum);
}

/**
 * `count` independent samples, each with `channels` independent channels, on an n x n grid; a
 * list of measures gives each channel its own (noiseFit.ts fits one per channel).
 */
export function sampleNoise(
  measure: NoiseMeasure | NoiseMeasure[],
  n: number,
  count: number,
  channels: number,
  seed: number,
): Float32Array<ArrayBuffer> {
  const transforms = unitSquareTransforms(n);
  const grid = transforms.grid;
  const measures = Array.isArray(measure) ? measure : Array(channels).fill(measure);
  if (measures.length !== channels)
    throw new Error(`${measures.length} noise measures for ${channels} channels`);
  const params: GrfParams[] = measures.map((m: NoiseMeasure) => ({
    sigma: m.sigma ?? unitSigma(m.tau, m.alpha),
    tau: m.tau,
    alpha: m.alpha,
  }));
  const out = new Float32Array(count * n * n * channels);
  const real = transforms.newReal();
  for (let s = 0; s < count; s++)
    for (let c = 0; c < channels; c++) {
      transforms.inverse(sampleGrf(grid, params[c]!, seed * 1_000_003 + s * channels + c), real);
      for (let p = 0; p < n * n; p++) out[(s * n * n + p) * channels + c] = real[p]!;
    }
  return out;
}
