/**
 * A real orthonormal Fourier basis of one periodic axis, restricted to the modes a 2/3-de-aliased
 * grid keeps (|index| ≤ kmax): rows [1, cos k₁x, sin k₁x, …, cos k_K x, sin k_K x], scaled so that
 * R Rᵀ = I. The differentiable coarse model (coarseModel.ts) works in this basis because every
 * transform is then a plain real matrix product, which jax-js differentiates and batches well, and
 * a real field has no anti-Hermitian part to clean up. The projection f̃ = R_y f R_xᵀ of a product of
 * two band-limited fields drops exactly the modes the spectral solver's 2/3 rule drops.
 */

export interface AxisBasis {
  /** Grid points and kept modes (2 kmax + 1). */
  points: number;
  modes: number;
  /** Row-major [modes, points]: f̃ = R f along this axis. */
  matrix: Float64Array;
  /** Wavenumber of each row (0 for the constant). */
  wavenumber: Float64Array;
  /** Signed mode index of each row (cos rows +m, sin rows −m, the constant 0). */
  index: Int32Array;
  /** Row-major [modes, modes]: the coefficients of ∂f are D times those of f. */
  derivative: Float64Array;
}

export function axisBasis(points: number, length: number, kmax: number): AxisBasis {
  if (2 * kmax >= points)
    throw new Error(`kmax ${kmax} needs more than ${2 * kmax} grid points, got ${points}`);
  const modes = 2 * kmax + 1;
  const matrix = new Float64Array(modes * points);
  const wavenumber = new Float64Array(modes);
  const index = new Int32Array(modes);
  const derivative = new Float64Array(modes * modes);
  for (let j = 0; j < points; j++) matrix[j] = 1 / Math.sqrt(points);
  for (let m = 1; m <= kmax; m++) {
    const cos = 2 * m - 1;
    const sin = 2 * m;
    const k = (2 * Math.PI * m) / length;
    wavenumber[cos] = k;
    wavenumber[sin] = k;
    index[cos] = m;
    index[sin] = -m;
    for (let j = 0; j < points; j++) {
      const angle = (2 * Math.PI * m * j) / points;
      matrix[cos * points + j] = Math.sqrt(2 / points) * Math.cos(angle);
      matrix[sin * points + j] = Math.sqrt(2 / points) * Math.sin(angle);
    }
    // d/dx (a cos kx + b sin kx) = k b cos kx − k a sin kx
    derivative[cos * modes + sin] = k;
    derivative[sin * modes + cos] = -k;
  }
  return { points, modes, matrix, wavenumber, index, derivative };
}

/** Row-major product of [r, n] and [n, c] matrices. */
export function matmul(a: Float64Array, b: Float64Array, r: number, n: number, c: number) {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++)
    for (let k = 0; k < n; k++) {
      const v = a[i * n + k]!;
      if (v !== 0) for (let j = 0; j < c; j++) out[i * c + j] = out[i * c + j]! + v * b[k * c + j]!;
    }
  return out;
}

/** Row-major transpose of an [r, c] matrix. */
export function transpose(a: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j]!;
  return out;
}

/** f̃ = R_y f R_xᵀ of a real (ny, nx) field. */
export function toModes(field: Float64Array, y: AxisBasis, x: AxisBasis): Float64Array {
  const along = matmul(field, transpose(x.matrix, x.modes, x.points), y.points, x.points, x.modes);
  return matmul(y.matrix, along, y.modes, y.points, x.modes);
}

/** f = R_yᵀ f̃ R_x, the real field of mode coefficients. */
export function fromModes(modes: Float64Array, y: AxisBasis, x: AxisBasis): Float64Array {
  const along = matmul(modes, x.matrix, y.modes, x.modes, x.points);
  return matmul(transpose(y.matrix, y.modes, y.points), along, y.points, y.modes, x.points);
}
