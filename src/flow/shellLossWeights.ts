/**
 * Per-mode weights for a flow-matching loss measured in Fourier space, so that shells holding
 * little of the target's power are not ignored by the fit (the plain pixel MSE weights every
 * mode by its share of the power, and the largest scales came out 10-30% short; docs/fotcfm.md).
 * Shell s gets w_s = (T̄ / T_s)^exponent, T_s the mean power per mode of the target x1 − x0
 * (independent pairing: data power + noise power) and T̄ its mean over the kept shells 1..kept;
 * shells above `kept` (beyond the FNO's modes) take w_kept, the mean mode takes w_1. The returned
 * array, one value per rfft2 mode [n, n/2 + 1], folds in the half-plane multiplicity and 1/(n²)²,
 * normalised so that Σ_modes weight·|ê|² equals Σ e² over the grid when every w_s is 1 (Parseval).
 */
import { shellSpectra } from './evaluate.ts';
import { shellOf, unitSquareTransforms } from './unitSquare.ts';

export function shellLossWeights(
  data: ArrayLike<number>,
  dataCount: number,
  noise: ArrayLike<number>,
  noiseCount: number,
  n: number,
  C: number,
  kept: number,
  exponent = 0.5,
): Float32Array<ArrayBuffer> {
  const grid = unitSquareTransforms(n).grid;
  const shells = Math.floor(n / 2);
  const modes = new Float64Array(shells + 1);
  for (let i = 0; i < grid.spectralSize; i++) {
    const s = shellOf(grid.k2[i]!);
    if (grid.k2[i]! > 0 && s <= shells) modes[s]! += grid.weight[i]!;
  }
  const target = new Float64Array(shells + 1);
  for (let c = 0; c < C; c++) {
    const d = shellSpectra(data, dataCount, n, C, c).power;
    const z = shellSpectra(noise, noiseCount, n, C, c).power;
    for (let s = 1; s <= shells; s++) target[s]! += (d[s]! + z[s]!) / modes[s]! / C;
  }
  const top = Math.min(kept, shells);
  let mean = 0;
  for (let s = 1; s <= top; s++) mean += target[s]! / top;
  const shellWeight = (s: number) => (mean / target[Math.min(Math.max(s, 1), top)]!) ** exponent;
  const raw = new Float64Array(grid.spectralSize);
  let total = 0;
  for (let i = 0; i < grid.spectralSize; i++) {
    raw[i] = grid.weight[i]! * shellWeight(shellOf(grid.k2[i]!));
    total += raw[i]!;
  }
  // Σ multiplicity·w = n² makes the weights average 1 over the full plane of modes.
  const scale = (n * n) / total / (n * n) ** 2;
  return Float32Array.from(raw, (w) => w * scale);
}
