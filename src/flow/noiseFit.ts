/**
 * A noise measure fitted to the data (`flow train --noise-fit`): per channel, the τ and α of the
 * Gaussian measure σ²(τ² − Δ)^(−α) whose expected shell spectrum has the shape of that channel's
 * mean shell spectrum (σ stays at unit pointwise variance, as the fields are standardised; HW's n
 * and Ω differ by k⁴, so one measure cannot serve both). With
 * the default τ = 3, α = 2 the noise holds its power at shells 1-2; data peaking at the forcing or
 * drift-wave scale (Kolmogorov at 4, HW near 5) then needs the velocity to move power up in k,
 * which a short training does not learn. The fit stays in the measure's family, so the noise is
 * still defined at every resolution.
 */
import { shellSpectra } from './evaluate.ts';
import type { NoiseMeasure } from './noise.ts';
import { shellOf, unitSquareTransforms } from './unitSquare.ts';

const ALPHAS = Array.from({ length: 100 }, (_, i) => 1.05 + 0.05 * i);

/** A stored mode of the n-grid: its shell, |k|² and Hermitian weight. */
type Mode = { shell: number; k2: number; weight: number };

/** Expected shell power of the measure on an n-grid, binned as evaluate.ts shellSpectra bins. */
function measureShells(modes: Mode[], shells: number, tau: number, alpha: number): Float64Array {
  const out = new Float64Array(shells + 1);
  for (const m of modes) out[m.shell]! += m.weight * (m.k2 + tau * tau) ** -alpha;
  return out;
}

export type FittedNoise = NoiseMeasure & { rmsLogError: number };

/**
 * Least-squares fit of log shell power over shells 1..n/3 per channel (a free amplitude; τ on a
 * log grid from 0.5 to π·n/2, i.e. up to shell n/4; α from 1.05 to 6). Returns each channel's
 * measure and the rms log error of its fit.
 */
export function fitNoiseMeasure(
  fields: ArrayLike<number>,
  count: number,
  n: number,
  channels: number,
): FittedNoise[] {
  const shells = Math.floor(n / 3);
  const grid = unitSquareTransforms(n).grid;
  const modes: Mode[] = [];
  for (let i = 0; i < grid.spectralSize; i++) {
    const k2 = grid.k2[i]!;
    const shell = shellOf(k2);
    if (k2 > 0 && shell <= shells) modes.push({ shell, k2, weight: grid.weight[i]! });
  }
  // Every candidate's log shell power, computed once for all channels.
  const candidates: { tau: number; alpha: number; log: number[] }[] = [];
  const taus = 80;
  for (let j = 0; j < taus; j++) {
    const tau = 0.5 * (Math.PI * n) ** (j / (taus - 1));
    for (const alpha of ALPHAS) {
      const model = measureShells(modes, shells, tau, alpha);
      candidates.push({ tau, alpha, log: [...model.subarray(1)].map(Math.log) });
    }
  }
  return Array.from({ length: channels }, (_, c) =>
    bestCandidate(shellSpectra(fields, count, n, channels, c).power, candidates, shells),
  );
}

function bestCandidate(
  power: number[],
  candidates: { tau: number; alpha: number; log: number[] }[],
  shells: number,
): FittedNoise {
  const target = power.slice(1, shells + 1);
  if (!target.every((p) => p > 0 && Number.isFinite(p)))
    throw new Error('the noise fit needs fields with power in every shell up to n/3');
  const logTarget = target.map(Math.log);
  let best = { tau: 0, alpha: 0, error: Infinity };
  for (const { tau, alpha, log } of candidates) {
    const residual = logTarget.map((t, s) => t - log[s]!);
    const offset = residual.reduce((a, b) => a + b, 0) / residual.length;
    const error = Math.sqrt(residual.reduce((a, r) => a + (r - offset) ** 2, 0) / shells);
    if (error < best.error) best = { tau, alpha, error };
  }
  return { tau: best.tau, alpha: best.alpha, rmsLogError: best.error };
}
