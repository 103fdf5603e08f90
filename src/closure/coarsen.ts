/**
 * Coarse-graining of HW DNS snapshots for EHW-C: a sharp spectral cut-off filter with decimation by
 * `factor` per direction (the coarse grid keeps its own 2/3-de-aliased modes, copied from the DNS
 * spectrum: coefficients are normalised, so no rescaling), the exact sub-grid terms and the filtered
 * time derivatives. Sign convention, used by every closure module:
 *
 *   τ_f = filter([φ, f]) − [φ̄, f̄],   ∂t f̄ = RHS_coarse(f̄) − τ_f   (f ∈ {n, Ω})
 *
 * where RHS_coarse is the HW right-hand side on the coarse grid with the DNS's ν and N (the linear
 * terms commute with the cut-off filter). A closure models −τ_f.
 */
import { hermitianColumnZero, SpectralGrid } from '../spectral/grid.ts';
import { CpuSpectralStepper } from '../solvers/cpuStepper.ts';
import type { HwParams } from '../solvers/model.ts';

/** The coarse grid of `fine` decimated by `factor` per direction (same box, 2/3 de-aliasing). */
export function coarseGridOf(fine: SpectralGrid, factor: number): SpectralGrid {
  if (!Number.isInteger(Math.log2(factor)) || factor < 2)
    throw new Error(`the coarse-graining factor must be a power of two >= 2, got ${factor}`);
  if (fine.nx / factor < 8 || fine.ny / factor < 8)
    throw new Error(
      `factor ${factor} leaves ${fine.nx / factor}x${fine.ny / factor} points of ${fine.nx}x${fine.ny}; the coarse grid needs at least 8 per direction`,
    );
  return new SpectralGrid({
    nx: fine.nx / factor,
    ny: fine.ny / factor,
    lx: fine.lx,
    ly: fine.ly,
    dealias: '2/3',
  });
}

/** The cut-off filter and decimation of one half spectrum from `fine` onto `coarse`. */
export function coarsenSpectrum(
  spec: Float64Array,
  fine: SpectralGrid,
  coarse: SpectralGrid,
): Float64Array {
  const out = new Float64Array(2 * coarse.spectralSize);
  for (let row = 0; row < coarse.ny; row++) {
    if (!coarse.keptRow(row)) continue;
    const fineRow = (coarse.rowIndex(row) + fine.ny) % fine.ny;
    for (let col = 0; col < coarse.ncols; col++) {
      const from = 2 * (fineRow * fine.ncols + col);
      const to = 2 * (row * coarse.ncols + col);
      out[to] = spec[from]!;
      out[to + 1] = spec[from + 1]!;
    }
  }
  return out;
}

export interface CoarseSample {
  /** Coarse n̄, Ω̄ (half spectra on the coarse grid). */
  fields: Float64Array[];
  /** τ_n, τ_Ω. */
  subgrid: Float64Array[];
  /** ∂t n̄, ∂t Ω̄ from the DNS right-hand side, filtered. */
  dt: Float64Array[];
}

export class Coarsener {
  readonly coarse: SpectralGrid;
  readonly #fineStepper: CpuSpectralStepper;
  readonly #coarseStepper: CpuSpectralStepper;

  constructor(
    readonly model: HwParams,
    readonly fine: SpectralGrid,
    readonly factor: number,
  ) {
    this.coarse = coarseGridOf(fine, factor);
    // dt is irrelevant: only the brackets and right-hand sides are used.
    this.#fineStepper = new CpuSpectralStepper(fine, model, 1, 'rk4');
    this.#coarseStepper = new CpuSpectralStepper(this.coarse, model, 1, 'rk4');
  }

  #down(spectra: Float64Array[]): Float64Array[] {
    return spectra.map((spec) => coarsenSpectrum(spec, this.fine, this.coarse));
  }

  /** Coarse fields, sub-grid terms and filtered time derivatives of one DNS state (half spectra). */
  sample(fineFields: Float64Array[]): CoarseSample {
    const fields = this.#down(fineFields);
    const fineBrackets = this.#fineStepper.brackets(fineFields).map((b) => b.slice());
    const fineRhs = fineFields.map((f) => new Float64Array(f.length));
    this.#fineStepper.rhs(fineFields, fineRhs);
    const coarseBrackets = this.#coarseStepper.brackets(fields);
    const subgrid = this.#down(fineBrackets).map((filtered, f) => {
      const bar = coarseBrackets[f]!;
      hermitianColumnZero(filtered, this.coarse);
      hermitianColumnZero(bar, this.coarse);
      return filtered.map((v, i) => v - bar[i]!);
    });
    return { fields, subgrid, dt: this.#down(fineRhs) };
  }

  /** The coarse HW right-hand side of coarse fields (what a closure is added to). */
  coarseRhs(fields: Float64Array[]): Float64Array[] {
    const out = fields.map((f) => new Float64Array(f.length));
    this.#coarseStepper.rhs(fields, out);
    return out;
  }
}
