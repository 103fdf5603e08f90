/**
 * The Poisson brackets [φ, f] of the pseudo-spectral step in float32 with PFFFT (SIMD wasm): the
 * fast CPU path. Same three passes as the GPU kernels: inverse column FFTs of φ̂, i·ky φ̂, f̂,
 * i·ky f̂ (`columnsInverse`); per grid row the inverse real FFTs, the bracket and its forward real
 * FFT (`rowsBracket`); forward column FFTs (`columnsForward`). Each pass takes a range of columns
 * or rows, so worker threads (bracketWorkers.ts) can split it; the two intermediate arrays may
 * live in shared memory for that. Inputs and outputs use the grid's float64 spectral layout.
 */
import { Pffft } from '../spectral/pffft.ts';
import type { SpectralGrid } from '../spectral/grid.ts';

/** Whether the PFFFT path handles this grid (2/3 de-aliasing, PFFFT's length rules). */
export function pffftSupports(grid: SpectralGrid): boolean {
  return (
    2 * (grid.ncols - 1) < grid.nx &&
    Pffft.supports(grid.nx, 'real') &&
    Pffft.supports(grid.ny, 'complex')
  );
}

/** The arrays passed between the passes: inverse columns of every source, row brackets. */
export interface BracketScratch {
  /** Source s (0 φ, 1 i·ky φ, 2f+2 field f, 2f+3 i·ky f) at [s][row][col], interleaved. */
  columns: Float32Array;
  /** Forward row transform of bracket f at [f][row][col], interleaved. */
  products: Float32Array;
}

export function bracketScratch(grid: SpectralGrid, fields: number, shared: boolean) {
  const floats = (count: number) => {
    const length = 2 * count * grid.ny * grid.ncols;
    return shared ? new Float32Array(new SharedArrayBuffer(4 * length)) : new Float32Array(length);
  };
  return { columns: floats(2 * (fields + 1)), products: floats(fields) };
}

export class PffftBrackets {
  readonly grid: SpectralGrid;
  readonly fields: number;
  readonly scratch: BracketScratch;
  readonly #fft: Pffft;
  readonly #heap: Float32Array;
  /** Heap offsets: one column in and out, the spectrum of one row, six real rows. */
  readonly #columnIn: number;
  readonly #columnOut: number;
  readonly #rowSpectrum: number;
  readonly #rows: number;
  readonly #ky: Float64Array;

  private constructor(grid: SpectralGrid, fields: number, scratch: BracketScratch, fft: Pffft) {
    this.grid = grid;
    this.fields = fields;
    this.scratch = scratch;
    this.#fft = fft;
    fft.prepare('complex', grid.ny);
    fft.prepare('real', grid.nx);
    this.#columnIn = fft.allocate(2 * grid.ny);
    this.#columnOut = fft.allocate(2 * grid.ny);
    this.#rowSpectrum = fft.allocate(grid.nx);
    this.#rows = fft.allocate(6 * grid.nx);
    this.#heap = fft.heap;
    this.#ky = Float64Array.from({ length: grid.ny }, (_, row) => grid.ky(row));
  }

  static async create(grid: SpectralGrid, fields: number, scratch?: BracketScratch) {
    if (!pffftSupports(grid))
      throw new Error(
        `the PFFFT solver path needs 2/3 de-aliasing, nx a multiple of 32 and ny of 16 (got ${grid.nx}x${grid.ny})`,
      );
    const own = scratch ?? bracketScratch(grid, fields, false);
    return new PffftBrackets(grid, fields, own, await Pffft.load());
  }

  /** All three passes on this thread: [φ, f] of every field into `out` (grid layout). */
  brackets(phi: Float64Array, fields: Float64Array[], out: Float64Array[]): void {
    const { ncols, ny } = this.grid;
    this.columnsInverse([phi, ...fields], 0, ncols);
    this.rowsBracket(0, ny);
    this.columnsForward(out, 0, ncols);
  }

  /** Pass 1 for columns [c0, c1): sources[0] = φ̂, then the fields. */
  columnsInverse(sources: Float64Array[], c0: number, c1: number): void {
    const { ny, ncols } = this.grid;
    const heap = this.#heap;
    const input = this.#columnIn;
    const output = this.#columnOut;
    const columns = this.scratch.columns;
    for (let s = 0; s < 2 * sources.length; s++) {
      const spec = sources[s >> 1]!;
      const derivative = (s & 1) === 1;
      const base = s * ny * ncols;
      const ky = this.#ky;
      for (let col = c0; col < c1; col++) {
        for (let row = 0, i = 2 * col, h = input; row < ny; row++, i += 2 * ncols, h += 2) {
          const re = spec[i]!;
          const im = spec[i + 1]!;
          const k = derivative ? ky[row]! : 0;
          heap[h] = derivative ? -k * im : re;
          heap[h + 1] = derivative ? k * re : im;
        }
        this.#fft.transform('complex', ny, input, output, true);
        for (let row = 0; row < ny; row++) {
          const o = 2 * (base + row * ncols + col);
          columns[o] = heap[output + 2 * row]!;
          columns[o + 1] = heap[output + 2 * row + 1]!;
        }
      }
    }
  }

  /** Inverse real FFT of row `row` of source s (times i·kx when `timesIkx`) into real row `slot`. */
  #rowInverse(s: number, row: number, timesIkx: boolean, slot: number): void {
    const { nx, ny, ncols, dkx } = this.grid;
    const heap = this.#heap;
    const spectrum = this.#rowSpectrum;
    const columns = this.scratch.columns;
    const base = 2 * (s * ny * ncols + row * ncols);
    heap.fill(0, spectrum, spectrum + nx);
    heap[spectrum] = timesIkx ? 0 : columns[base]!;
    for (let k = 1; k < ncols; k++) {
      const re = columns[base + 2 * k]!;
      const im = columns[base + 2 * k + 1]!;
      const kx = timesIkx ? k * dkx : 0;
      heap[spectrum + 2 * k] = timesIkx ? -kx * im : re;
      heap[spectrum + 2 * k + 1] = timesIkx ? kx * re : im;
    }
    this.#fft.transform('real', nx, spectrum, this.#rows + slot * nx, true);
  }

  /** Pass 2 for rows [r0, r1): the brackets in physical space and their forward row FFTs. */
  rowsBracket(r0: number, r1: number): void {
    const { nx, ny, ncols } = this.grid;
    const heap = this.#heap;
    const products = this.scratch.products;
    const [dxPhi, dyPhi, dxF, dyF, bracket] = [0, 1, 2, 3, 4].map((i) => this.#rows + i * nx) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const spectrum = this.#rowSpectrum;
    for (let row = r0; row < r1; row++) {
      this.#rowInverse(0, row, true, 0);
      this.#rowInverse(1, row, false, 1);
      for (let f = 0; f < this.fields; f++) {
        this.#rowInverse(2 * f + 2, row, true, 2);
        this.#rowInverse(2 * f + 3, row, false, 3);
        for (let x = 0; x < nx; x++)
          heap[bracket + x] = heap[dxPhi + x]! * heap[dyF + x]! - heap[dyPhi + x]! * heap[dxF + x]!;
        this.#fft.transform('real', nx, bracket, spectrum, false);
        const o = 2 * (f * ny * ncols + row * ncols);
        products[o] = heap[spectrum]!;
        products[o + 1] = 0;
        for (let k = 1; k < ncols; k++) {
          products[o + 2 * k] = heap[spectrum + 2 * k]!;
          products[o + 2 * k + 1] = heap[spectrum + 2 * k + 1]!;
        }
      }
    }
  }

  /** Pass 3 for columns [c0, c1): forward column FFTs, normalised and de-aliased, into `out`. */
  columnsForward(out: Float64Array[], c0: number, c1: number): void {
    const { nx, ny, ncols } = this.grid;
    const heap = this.#heap;
    const input = this.#columnIn;
    const output = this.#columnOut;
    const products = this.scratch.products;
    const scale = 1 / (nx * ny);
    for (let f = 0; f < this.fields; f++) {
      const spec = out[f]!;
      for (let col = c0; col < c1; col++) {
        for (let row = 0; row < ny; row++) {
          const o = 2 * (f * ny * ncols + row * ncols + col);
          heap[input + 2 * row] = products[o]!;
          heap[input + 2 * row + 1] = products[o + 1]!;
        }
        this.#fft.transform('complex', ny, input, output, false);
        for (let row = 0; row < ny; row++) {
          const i = 2 * (row * ncols + col);
          const keep = this.grid.keptRow(row) ? scale : 0;
          spec[i] = keep * heap[output + 2 * row]!;
          spec[i + 1] = keep * heap[output + 2 * row + 1]!;
        }
      }
    }
  }
}
