/**
 * The equations, as data both steppers (CPU and WGSL) read: which fields are evolved, the diagonal
 * linear rate of each mode (dissipation, drag), the explicit linear couplings, and the forcing.
 *
 *   HW   (fields n, Ω; φ = ∇⁻²Ω):  ∂t Ω = −[φ, Ω] + c1 (φ − n) + D(Ω)
 *                                   ∂t n = −[φ, n] + c1 (φ − n) − κ ∂y φ + D(n)
 *        D(f) = −ν (−∇²)^N f; the modified model drops the zonal (ky = 0) part of φ − n.
 *        Optional closure terms (EHW-C, src/closure/): −c (−∇²)^p f added to equation e.
 *   NS   (field ω; ψ = ∇⁻²ω):       ∂t ω = −[ψ, ω] + ν ∇²ω − μ ω + f
 *   [a, b] = ∂x a ∂y b − ∂y a ∂x b;  u = (−∂y ψ, ∂x ψ), so u·∇ω = [ψ, ω].
 */
import type { SpectralGrid } from '../spectral/grid.ts';

/** A closure term −c (−∇²)^p f on the right-hand side of equation e (c > 0 damps own-field terms). */
export interface ClosureTerm {
  equation: 'n' | 'omega';
  field: 'n' | 'phi' | 'omega';
  power: 1 | 2 | 3;
}

export interface HwParams {
  kind: 'hw';
  c1: number;
  kappa: number;
  nu: number;
  hyperOrder: number;
  modified: boolean;
  /** EHW-C closure terms and their coefficients (absent: plain HW). */
  closure?: { terms: ClosureTerm[]; coefficients: number[] };
}

/**
 * The closure's linear operator of one mode, d/dt (n̂, Ω̂) += [[nn, nw], [wn, ww]] (n̂, Ω̂): own-field
 * terms give −c k^{2p}; a φ term gives +c k^{2p−2} on Ω̂ (φ̂ = −Ω̂/k², zero at k = 0).
 */
export function closureMatrix(params: ModelParams, k2: number): [number, number, number, number] {
  const m: [number, number, number, number] = [0, 0, 0, 0];
  if (params.kind !== 'hw' || !params.closure) return m;
  params.closure.terms.forEach((term, j) => {
    const c = params.closure!.coefficients[j]!;
    const row = term.equation === 'n' ? 0 : 2;
    const at = term.field === 'n' ? row : row + 1;
    m[at] =
      m[at]! +
      (term.field === 'phi' ? (k2 > 0 ? c * k2 ** (term.power - 1) : 0) : -c * k2 ** term.power);
  });
  return m;
}

/** The closure's matrix of every mode (nn, nw, wn, ww per mode), or null without a closure. */
export function closureMatrices(params: ModelParams, grid: SpectralGrid): Float64Array | null {
  if (params.kind !== 'hw' || !params.closure) return null;
  const out = new Float64Array(4 * grid.spectralSize);
  grid.k2.forEach((k2, i) => out.set(closureMatrix(params, k2), 4 * i));
  return out;
}

/** A complex 2x2 matrix [[a, b], [c, d]], row-major, each entry (re, im). */
export type Matrix2 = [[number, number], [number, number], [number, number], [number, number]];

/**
 * HW's whole linear operator of one mode: d/dt (n̂, Ω̂) = L (n̂, Ω̂) + nonlinear terms, with
 * L = [[−c + D, (−c + iκky)/k²], [−c, −c/k² + D]] + the closure's matrix (c = 0 for the zonal row of
 * modified HW; at k = 0 only n̂'s own rate, Ω̂ stays 0). `dampingK2` is the symbol of −∇² in D.
 */
export function hwLinearOperator(
  params: HwParams,
  k2: number,
  ky: number,
  zonal: boolean,
  dampingK2 = k2,
): Matrix2 {
  const l = diagonalRate(params, dampingK2);
  const [nn, nw, wn, ww] = closureMatrix(params, k2);
  const c = params.modified && zonal ? 0 : params.c1;
  if (k2 === 0)
    return [
      [-c + l + nn, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ];
  return [
    [-c + l + nn, 0],
    [-c / k2 + nw, (params.kappa * ky) / k2],
    [-c + wn, 0],
    [-c / k2 + l + ww, 0],
  ];
}

export type ForcingKind = 'none' | 'fno' | 'kolmogorov';

export interface NsParams {
  kind: 'ns';
  nu: number;
  drag: number;
  forcing: ForcingKind;
  forcingAmplitude: number;
  forcingWavenumber: number;
}

export type ModelParams = HwParams | NsParams;

export function fieldNames(params: ModelParams): string[] {
  return params.kind === 'hw' ? ['n', 'omega'] : ['omega'];
}

/** Index of the vorticity among the evolved fields (φ or ψ is solved from it). */
export function vorticityIndex(params: ModelParams): number {
  return params.kind === 'hw' ? 1 : 0;
}

/** φ̂ = −Ω̂ / k² (zero mean): the potential (HW) or stream function (NS) of the evolved fields. */
export function potentialOf(
  params: ModelParams,
  grid: SpectralGrid,
  fields: Float64Array[],
  out: Float64Array = new Float64Array(2 * grid.spectralSize),
): Float64Array {
  const vorticity = fields[vorticityIndex(params)]!;
  const k2 = grid.k2;
  for (let i = 0; i < k2.length; i++) {
    const inv = k2[i]! > 0 ? -1 / k2[i]! : 0;
    out[2 * i] = inv * vorticity[2 * i]!;
    out[2 * i + 1] = inv * vorticity[2 * i + 1]!;
  }
  return out;
}

/** Diagonal linear rate L(k) ≤ 0 of every field (treated exactly by the integrating factor). */
export function diagonalRate(params: ModelParams, k2: number): number {
  if (params.kind === 'hw') return -params.nu * Math.pow(k2, params.hyperOrder);
  return -(params.nu * k2 + params.drag);
}

/**
 * The forcing of the vorticity equation in the stored spectral layout, or null. FNO: f =
 * A (sin 2π(x+y) + cos 2π(x+y)) on [0,1]² (A = 0.1 in the benchmark); Kolmogorov: f = A n cos(n y).
 */
export function forcingSpectrum(params: ModelParams, grid: SpectralGrid): Float64Array | null {
  if (params.kind !== 'ns' || params.forcing === 'none') return null;
  const out = new Float64Array(2 * grid.spectralSize);
  const a = params.forcingAmplitude;
  const set = (row: number, col: number, re: number, im: number) => {
    const i = 2 * (row * grid.ncols + col);
    out[i] = re;
    out[i + 1] = im;
  };
  const rowOf = (index: number) => (index >= 0 ? index : grid.ny + index);
  if (params.forcing === 'fno') {
    // sin θ + cos θ with θ = k·x, k = (1, 1) box modes: coefficient (1 − i)/2 at k, conj at −k;
    // only kx ≥ 0 is stored.
    set(rowOf(1), 1, a / 2, -a / 2);
  } else {
    const n = params.forcingWavenumber;
    const j = Math.round((n * grid.ly) / (2 * Math.PI));
    if (j < 1 || j > grid.kmaxY)
      throw new Error(
        `Kolmogorov forcing wavenumber ${n} is not a resolved mode of this grid (index ${j}, max ${grid.kmaxY})`,
      );
    // A n cos(n y) = (A n / 2)(e^{iny} + e^{−iny}).
    set(rowOf(j), 0, (a * n) / 2, 0);
    set(rowOf(-j), 0, (a * n) / 2, 0);
  }
  return out;
}
