/**
 * Gaussian random fields with covariance σ²(τ² − Δ)^(−α) on a periodic box, sampled spectrally at
 * any resolution: E|f̂_k|² = σ²(|k|² + τ²)^(−α) for every kept mode (k = 0 excluded), so the same
 * (σ, τ, α) gives the same field statistics on every grid. α > 1 keeps 2-D samples in L².
 * Used for the FNO Navier-Stokes initial vorticity and (later) as the flow-matching noise measure.
 */
import type { SpectralGrid } from './grid.ts';
import { whiteNoise } from './random.ts';
import { Transforms2d } from './transforms2d.ts';

export interface GrfParams {
  sigma: number;
  tau: number;
  alpha: number;
}

/**
 * The FNO benchmark's initial vorticity, N(0, 7^{3/2}(−Δ + 49 I)^{−2.5}) on [0,1]², in this
 * convention (their real part of a complex field doubles the variance per mode).
 */
export const FNO_INITIAL_GRF: GrfParams = { sigma: Math.SQRT2 * 7 ** 1.5, tau: 7, alpha: 2.5 };

/** A spectral GRF sample: real white noise, transformed, shaped by the covariance's square root. */
export function sampleGrf(grid: SpectralGrid, params: GrfParams, seed: number): Float64Array {
  const transforms = new Transforms2d(grid);
  const spec = transforms.newSpectral();
  transforms.forward(whiteNoise(grid.realSize, seed), spec);
  // White noise of unit variance has E|ξ̂_k|² = 1/N² per mode (normalised coefficients).
  const points = grid.realSize;
  for (let i = 0; i < grid.spectralSize; i++) {
    const k2 = grid.k2[i]!;
    const scale =
      k2 === 0
        ? 0
        : params.sigma * Math.sqrt(points) * Math.pow(k2 + params.tau ** 2, -params.alpha / 2);
    spec[2 * i] = spec[2 * i]! * scale;
    spec[2 * i + 1] = spec[2 * i + 1]! * scale;
  }
  return spec;
}
