/**
 * 2-D real transforms between (y, x) fields and the half-spectrum layout of `SpectralGrid`, built
 * from separate column (y) and row (x) passes so the solvers can fuse work between them exactly as
 * the GPU kernels do: inverse = columns then rows, forward = rows then columns. Only the stored
 * columns (kx < ncols) are ever transformed along y.
 */
import { ComplexFft, RealFft } from './fft.ts';
import type { SpectralGrid } from './grid.ts';

export class Transforms2d {
  readonly rows: RealFft;
  readonly columns: ComplexFft;
  readonly #column: Float64Array;

  constructor(readonly grid: SpectralGrid) {
    this.rows = new RealFft(grid.nx);
    this.columns = new ComplexFft(grid.ny);
    this.#column = new Float64Array(2 * grid.ny);
  }

  newSpectral(): Float64Array {
    return new Float64Array(2 * this.grid.spectralSize);
  }

  newReal(): Float64Array {
    return new Float64Array(this.grid.realSize);
  }

  /**
   * Inverse transform along y of every stored column of `spec` into `out` (same layout), after
   * multiplying each mode by i·ky when `timesIky` (a y-derivative).
   */
  columnsInverse(spec: Float64Array, out: Float64Array, timesIky = false): void {
    const { ny, ncols } = this.grid;
    const column = this.#column;
    for (let col = 0; col < ncols; col++) {
      for (let row = 0; row < ny; row++) {
        const i = 2 * (row * ncols + col);
        const re = spec[i]!;
        const im = spec[i + 1]!;
        if (timesIky) {
          const ky = this.grid.ky(row);
          column[2 * row] = -ky * im;
          column[2 * row + 1] = ky * re;
        } else {
          column[2 * row] = re;
          column[2 * row + 1] = im;
        }
      }
      this.columns.transform(column, 0, true);
      for (let row = 0; row < ny; row++) {
        const i = 2 * (row * ncols + col);
        out[i] = column[2 * row]!;
        out[i + 1] = column[2 * row + 1]!;
      }
    }
  }

  /** Forward transform along y of every stored column, scaled by `scale`, zeroing de-aliased rows. */
  columnsForward(half: Float64Array, spec: Float64Array, scale: number): void {
    const { ny, ncols } = this.grid;
    const column = this.#column;
    for (let col = 0; col < ncols; col++) {
      for (let row = 0; row < ny; row++) {
        const i = 2 * (row * ncols + col);
        column[2 * row] = half[i]!;
        column[2 * row + 1] = half[i + 1]!;
      }
      this.columns.transform(column, 0, false);
      for (let row = 0; row < ny; row++) {
        const i = 2 * (row * ncols + col);
        const keep = this.grid.keptRow(row) ? scale : 0;
        spec[i] = keep * column[2 * row]!;
        spec[i + 1] = keep * column[2 * row + 1]!;
      }
    }
  }

  /** Inverse x-transform of row `row` of `half` into a real row, times i·kx when `timesIkx`. */
  rowInverse(
    half: Float64Array,
    row: number,
    out: Float64Array,
    outStart: number,
    timesIkx: boolean,
  ) {
    const { ncols } = this.grid;
    if (!timesIkx) {
      this.rows.inverse(half, row * ncols, ncols, out, outStart);
      return;
    }
    const scratch = this.#rowScratch();
    for (let col = 0; col < ncols; col++) {
      const i = 2 * (row * ncols + col);
      const kx = this.grid.kx(col);
      scratch[2 * col] = -kx * half[i + 1]!;
      scratch[2 * col + 1] = kx * half[i]!;
    }
    this.rows.inverse(scratch, 0, ncols, out, outStart);
  }

  /** Forward x-transform of a real row into row `row` of `half` (stored columns only). */
  rowForward(x: Float64Array, xStart: number, half: Float64Array, row: number): void {
    this.rows.forward(x, xStart, half, row * this.grid.ncols, this.grid.ncols);
  }

  #scratch: Float64Array | undefined;
  #rowScratch(): Float64Array {
    this.#scratch ??= new Float64Array(2 * this.grid.ncols);
    return this.#scratch;
  }

  /** Full inverse: spectral (normalised coefficients) → real field. */
  inverse(spec: Float64Array, real: Float64Array): void {
    const half = this.newSpectral();
    this.columnsInverse(spec, half);
    for (let row = 0; row < this.grid.ny; row++)
      this.rowInverse(half, row, real, row * this.grid.nx, false);
  }

  /** Full forward: real field → normalised, de-aliased spectral coefficients. */
  forward(real: Float64Array, spec: Float64Array): void {
    const half = this.newSpectral();
    for (let row = 0; row < this.grid.ny; row++)
      this.rowForward(real, row * this.grid.nx, half, row);
    this.columnsForward(half, spec, 1 / (this.grid.nx * this.grid.ny));
  }
}
