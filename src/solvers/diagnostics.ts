/**
 * Diagnostics from the spectral state (Parseval: ⟨f g⟩ = Σ_k f̂ ĝ*), defined once per model as
 * per-mode quantities. Summing them per ky row gives ky-spectra, over |k| shells gives isotropic
 * spectra, over everything gives the scalars. The WGSL diagnostics kernel evaluates the same
 * formulas (see wgsl/diagnostics.wgsl); tests compare the two.
 *
 * HW: E = ½⟨n² + |∇φ|²⟩ = E_N + E_V, U = ½⟨(n − Ω)²⟩, Γn = −⟨n ∂yφ⟩, Γc = c1⟨(ñ − φ̃)²⟩ (zonal
 * parts removed in modified HW), D_E = −⟨n D(n) − φ D(Ω)⟩, D_U = −⟨(n − Ω)(D(n) − D(Ω))⟩, so that
 * dE/dt = κΓn − Γc − D_E and dU/dt = κΓn − D_U.
 * NS: E = ½⟨|u|²⟩, Z = ½⟨ω²⟩, their dissipation (viscosity + drag) and injection by the forcing.
 */
import type { SpectralGrid } from '../spectral/grid.ts';
import { diagonalRate, forcingSpectrum, type ModelParams } from './model.ts';

export const HW_QUANTITIES = [
  'energy_n',
  'energy_v',
  'enstrophy',
  'gamma_n',
  'gamma_c',
  'dissipation_e',
  'dissipation_u',
] as const;
export const NS_QUANTITIES = [
  'energy',
  'enstrophy',
  'dissipation_e',
  'dissipation_z',
  'injection_e',
  'injection_z',
] as const;

export function quantityNames(params: ModelParams): readonly string[] {
  return params.kind === 'hw' ? HW_QUANTITIES : NS_QUANTITIES;
}

/**
 * Per-mode quantities (without the half-spectrum weight) of `fields` with potential `phi`, written to
 * `out` (length = number of quantities).
 */
export function modeQuantities(
  params: ModelParams,
  grid: SpectralGrid,
  fields: Float64Array[],
  phi: Float64Array,
  forcing: Float64Array | null,
  row: number,
  col: number,
  out: Float64Array,
): void {
  const i = row * grid.ncols + col;
  const re = 2 * i;
  const im = re + 1;
  const k2 = grid.k2[i]!;
  const damping = -diagonalRate(params, k2);
  const pr = phi[re]!;
  const pi = phi[im]!;
  const phi2 = pr * pr + pi * pi;
  if (params.kind === 'hw') {
    const n = fields[0]!;
    const w = fields[1]!;
    const nr = n[re]!;
    const ni = n[im]!;
    const n2 = nr * nr + ni * ni;
    const ur = nr - w[re]!;
    const ui = ni - w[im]!;
    const u2 = ur * ur + ui * ui;
    const cr = nr - pr;
    const ci = ni - pi;
    const c = params.modified && row === 0 ? 0 : params.c1;
    out[0] = 0.5 * n2;
    out[1] = 0.5 * k2 * phi2;
    out[2] = 0.5 * u2;
    out[3] = grid.ky(row) * (nr * pi - ni * pr);
    out[4] = c * (cr * cr + ci * ci);
    out[5] = damping * (n2 + k2 * phi2);
    out[6] = damping * u2;
  } else {
    const w = fields[0]!;
    const wr = w[re]!;
    const wi = w[im]!;
    const fr = forcing ? forcing[re]! : 0;
    const fi = forcing ? forcing[im]! : 0;
    out[0] = 0.5 * k2 * phi2;
    out[1] = 0.5 * (wr * wr + wi * wi);
    out[2] = damping * k2 * phi2;
    out[3] = damping * (wr * wr + wi * wi);
    out[4] = -(pr * fr + pi * fi);
    out[5] = wr * fr + wi * fi;
  }
}

export interface SpectralDiagnostics {
  names: readonly string[];
  /** Scalars by name (plus `energy` = E_N + E_V for HW). */
  scalars: Record<string, number>;
  /** ky ≥ 0 (index units of dky) spectra per quantity: sum over kx and ±ky. */
  ky: number[];
  kySpectra: Record<string, Float64Array>;
  /** Shell centres |k| and isotropic spectra per quantity (sum over the shell). */
  shells: number[];
  shellSpectra: Record<string, Float64Array>;
}

/** Scalars and spectra of a state (fields + potential). */
export function diagnose(
  params: ModelParams,
  grid: SpectralGrid,
  fields: Float64Array[],
  phi: Float64Array,
): SpectralDiagnostics {
  const names = quantityNames(params);
  const q = names.length;
  const forcing = forcingSpectrum(params, grid);
  const values = new Float64Array(q);
  const totals = new Float64Array(q);
  const kyCount = grid.kmaxY + 1;
  const dk = Math.min(grid.dkx, grid.dky);
  const shellCount = Math.floor(Math.sqrt(grid.maxK2) / dk + 0.5) + 1;
  const ky = new Float64Array(q * kyCount);
  const shell = new Float64Array(q * shellCount);
  for (let row = 0; row < grid.ny; row++) {
    if (!grid.keptRow(row)) continue;
    const kyIndex = Math.abs(grid.rowIndex(row));
    for (let col = 0; col < grid.ncols; col++) {
      const weight = grid.weight[row * grid.ncols + col]!;
      modeQuantities(params, grid, fields, phi, forcing, row, col, values);
      const s = Math.floor(Math.sqrt(grid.k2[row * grid.ncols + col]!) / dk + 0.5);
      for (let j = 0; j < q; j++) {
        const v = weight * values[j]!;
        totals[j] = totals[j]! + v;
        ky[j * kyCount + kyIndex] = ky[j * kyCount + kyIndex]! + v;
        shell[j * shellCount + s] = shell[j * shellCount + s]! + v;
      }
    }
  }
  const scalars: Record<string, number> = {};
  const kySpectra: Record<string, Float64Array> = {};
  const shellSpectra: Record<string, Float64Array> = {};
  names.forEach((name, j) => {
    scalars[name] = totals[j]!;
    kySpectra[name] = ky.slice(j * kyCount, (j + 1) * kyCount);
    shellSpectra[name] = shell.slice(j * shellCount, (j + 1) * shellCount);
  });
  if (params.kind === 'hw') scalars.energy = scalars.energy_n! + scalars.energy_v!;
  return {
    names,
    scalars,
    ky: Array.from({ length: kyCount }, (_, j) => j * grid.dky),
    kySpectra,
    shells: Array.from({ length: shellCount }, (_, j) => j * dk),
    shellSpectra,
  };
}
