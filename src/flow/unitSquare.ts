/**
 * FOT-CFM's fields live on the periodic unit square. One set of real 2-D transforms per grid size
 * serves the noise sampler (every training step), the dataset's spectral cut-off and the
 * evaluation, instead of each building its FFT plans afresh. Sets of fields are channels last,
 * [count, n, n, C]; `channelOf` takes one field's channel out of such a set, `shellOf` bins a
 * mode into its isotropic shell.
 */
import { SpectralGrid } from '../spectral/grid.ts';
import { Transforms2d } from '../spectral/transforms2d.ts';

const cache = new Map<number, Transforms2d>();

/** Transforms of the n x n grid on [0, 1)² without de-aliasing (its grid is `.grid`). */
export function unitSquareTransforms(n: number): Transforms2d {
  let t = cache.get(n);
  if (!t) {
    t = new Transforms2d(new SpectralGrid({ nx: n, ny: n, lx: 1, ly: 1, dealias: 'none' }));
    cache.set(n, t);
  }
  return t;
}

/** Channel c of field s of a set [count, n, n, C], as a row-major (y, x) array (into `out`). */
export function channelOf<T extends Float32Array | Float64Array>(
  fields: ArrayLike<number>,
  s: number,
  n: number,
  C: number,
  c: number,
  out: T,
): T {
  for (let p = 0; p < n * n; p++) out[p] = fields[(s * n * n + p) * C + c]!;
  return out;
}

/** The isotropic shell (integer |k| in box units) of a mode with |k|² = k2 on the unit square. */
export function shellOf(k2: number): number {
  return Math.round(Math.sqrt(k2) / (2 * Math.PI));
}
