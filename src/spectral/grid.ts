/**
 * The periodic grid and its half-spectrum layout, shared by the CPU and GPU solvers so both index
 * modes identically. Real fields are stored (y, x) row-major. Spectral fields keep kx = 0..ncols-1
 * (the non-negative half; with 2/3 de-aliasing only |kx| < nx/3 is ever non-zero, so only those
 * columns are stored) and every ky row in FFT order, as interleaved complex values. Coefficients are
 * normalised (f(x) = Σ f̂_k e^{ik·x}), so ⟨f g⟩ = Σ_k f̂_k ĝ_k^* over the full spectrum, independent
 * of resolution: the spectra of a 64² and a 512² run are directly comparable.
 */
import { isPowerOfTwo } from './fft.ts';

export type Dealias = '2/3' | 'none';

export interface GridOptions {
  nx: number;
  ny: number;
  lx: number;
  ly: number;
  dealias: Dealias;
}

export class SpectralGrid {
  readonly nx: number;
  readonly ny: number;
  readonly lx: number;
  readonly ly: number;
  readonly dealias: Dealias;
  /** Largest kept |index| along x and y. */
  readonly kmaxX: number;
  readonly kmaxY: number;
  /** Stored spectral columns (kx = 0..ncols-1). */
  readonly ncols: number;
  readonly dkx: number;
  readonly dky: number;
  /** Grid spacing. */
  readonly dx: number;
  readonly dy: number;
  /** |k|² per stored mode (ny × ncols). */
  readonly k2: Float64Array;
  /** Weight of each stored mode in a full-spectrum sum: 1 for kx = 0 (and kx = nx/2), else 2. */
  readonly weight: Float64Array;

  constructor(options: GridOptions) {
    const { nx, ny, lx, ly, dealias } = options;
    for (const [name, n] of [
      ['nx', nx],
      ['ny', ny],
    ] as const) {
      if (!isPowerOfTwo(n) || n < 8)
        throw new Error(
          `${name} = ${n} is not supported: use a power of two >= 8 (64, 128, 256, ...)`,
        );
    }
    if (!(lx > 0 && ly > 0)) throw new Error(`box lengths must be positive, got ${lx} x ${ly}`);
    this.nx = nx;
    this.ny = ny;
    this.lx = lx;
    this.ly = ly;
    this.dealias = dealias;
    // 2/3 rule: quadratic products alias onto |k| >= n - 2K, so keep |k| < n/3.
    this.kmaxX = dealias === '2/3' ? Math.ceil(nx / 3) - 1 : nx / 2;
    this.kmaxY = dealias === '2/3' ? Math.ceil(ny / 3) - 1 : ny / 2;
    this.ncols = this.kmaxX + 1;
    this.dkx = (2 * Math.PI) / lx;
    this.dky = (2 * Math.PI) / ly;
    this.dx = lx / nx;
    this.dy = ly / ny;
    const size = ny * this.ncols;
    this.k2 = new Float64Array(size);
    this.weight = new Float64Array(size);
    for (let row = 0; row < ny; row++) {
      const ky = this.ky(row);
      for (let col = 0; col < this.ncols; col++) {
        const kx = col * this.dkx;
        const i = row * this.ncols + col;
        this.k2[i] = kx * kx + ky * ky;
        this.weight[i] = this.keptRow(row) ? (col === 0 || 2 * col === nx ? 1 : 2) : 0;
      }
    }
  }

  get spectralSize(): number {
    return this.ny * this.ncols;
  }

  get realSize(): number {
    return this.ny * this.nx;
  }

  /** Signed wavenumber index of a row in FFT order. */
  rowIndex(row: number): number {
    return row <= this.ny / 2 ? row : row - this.ny;
  }

  ky(row: number): number {
    return this.rowIndex(row) * this.dky;
  }

  kx(col: number): number {
    return col * this.dkx;
  }

  /** Whether a ky row survives de-aliasing (the Nyquist row only without de-aliasing). */
  keptRow(row: number): boolean {
    return Math.abs(this.rowIndex(row)) <= this.kmaxY;
  }

  /** Largest |k|² among kept modes (for stability estimates). */
  get maxK2(): number {
    const kx = this.kmaxX * this.dkx;
    const ky = this.kmaxY * this.dky;
    return kx * kx + ky * ky;
  }

  describe(): Record<string, number | string> {
    return { nx: this.nx, ny: this.ny, lx: this.lx, ly: this.ly, dealias: this.dealias };
  }
}

/**
 * Replaces the kx = 0 column of a half spectrum by its Hermitian part, X(ky) ← ½(X(ky) + X(−ky)*),
 * in place. A real field has X(−ky, 0) = X(ky, 0)*; the anti-Hermitian part of that column has
 * no real-space counterpart, so the nonlinear terms never act on it and, seeded by FFT rounding,
 * it would grow at the linear growth rate (in HW until it swamps the turbulence). Solvers apply
 * this to every computed bracket and to initial states.
 */
export function hermitianColumnZero(spec: Float64Array, grid: SpectralGrid): void {
  const { ny, ncols } = grid;
  for (let row = 0; row <= ny / 2; row++) {
    const i = 2 * row * ncols;
    const j = 2 * ((ny - row) % ny) * ncols;
    const re = 0.5 * (spec[i]! + spec[j]!);
    const im = 0.5 * (spec[i + 1]! - spec[j + 1]!);
    spec[i] = re;
    spec[i + 1] = im;
    spec[j] = re;
    spec[j + 1] = -im;
  }
}
