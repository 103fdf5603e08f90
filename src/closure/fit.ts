/**
 * The a-priori least-squares fit of closure coefficients (the fast baseline): per equation e,
 * the coefficients c minimise ‖−τ_e − Σ_j c_j T_j‖² over all samples, with the L² inner product
 * of real fields (Parseval over the half spectrum) on the coarse grid. Small normal equations,
 * solved in float64.
 */
import type { SpectralGrid } from '../spectral/grid.ts';
import { type ClosureEquation, type ClosureTerm, evaluateTerm } from './terms.ts';

export interface FitSample {
  /** Coarse n̄, Ω̄, φ̄ (half spectra). */
  n: Float64Array;
  omega: Float64Array;
  phi: Float64Array;
  /** Sub-grid terms τ_n, τ_Ω (closure.ts sign convention). */
  subgrid: Record<ClosureEquation, Float64Array>;
}

export interface FitResult {
  coefficients: number[];
  /** ‖−τ_e − closure‖ / ‖τ_e‖ per equation: how much of the sub-grid term the terms explain. */
  relativeResidual: Record<ClosureEquation, number>;
}

function inner(a: Float64Array, b: Float64Array, grid: SpectralGrid): number {
  let s = 0;
  for (let i = 0; i < grid.spectralSize; i++)
    s += grid.weight[i]! * (a[2 * i]! * b[2 * i]! + a[2 * i + 1]! * b[2 * i + 1]!);
  return s;
}

/** Solves the symmetric system A x = b by Gaussian elimination with partial pivoting. */
export function solveSmall(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const scale = Math.max(...m.map((row) => Math.abs(row[col]!)));
    if (!(Math.abs(m[col]![col]!) > 1e-13 * scale))
      throw new Error('the closure terms are linearly dependent on this data: drop one of them');
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / m[col]![col]!;
      for (let c = col; c <= n; c++) m[r]![c] = m[r]![c]! - f * m[col]![c]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

/**
 * The normal equations of one equation's fit: A = Σ ⟨T_p, T_q⟩, b = Σ ⟨T_p, −τ⟩ over the samples,
 * for the terms `indices` (into the term list) of that equation, and ‖τ‖² summed. The residual of
 * coefficients x is ‖τ‖² − 2 xᵀb + xᵀAx (the physics-informed fit's residual loss uses them too).
 */
export interface NormalEquations {
  equation: ClosureEquation;
  indices: number[];
  a: number[][];
  b: number[];
  targetNorm: number;
}

export function normalEquations(
  samples: FitSample[],
  terms: ClosureTerm[],
  grid: SpectralGrid,
): NormalEquations[] {
  const systems: NormalEquations[] = [];
  for (const equation of ['n', 'omega'] as const) {
    const indices = terms.flatMap((t, j) => (t.equation === equation ? [j] : []));
    if (indices.length === 0) continue;
    const k = indices.length;
    const a = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const b = new Array<number>(k).fill(0);
    let targetNorm = 0;
    for (const s of samples) {
      const target = s.subgrid[equation].map((v) => -v);
      targetNorm += inner(target, target, grid);
      const cols = indices.map((j) => evaluateTerm(terms[j]!, s, grid));
      for (let p = 0; p < k; p++) {
        b[p] = b[p]! + inner(cols[p]!, target, grid);
        for (let q = 0; q < k; q++) a[p]![q] = a[p]![q]! + inner(cols[p]!, cols[q]!, grid);
      }
    }
    systems.push({ equation, indices, a, b, targetNorm });
  }
  return systems;
}

/** ‖−τ − closure‖ / ‖τ‖ of coefficients x (one per term of the system) from its normal equations. */
export function relativeResidualOf(system: NormalEquations, x: number[]): number {
  const { a, b, targetNorm } = system;
  let fitted = 0;
  for (let p = 0; p < x.length; p++) {
    fitted += -2 * x[p]! * b[p]!;
    for (let q = 0; q < x.length; q++) fitted += x[p]! * a[p]![q]! * x[q]!;
  }
  return Math.sqrt(Math.max(0, targetNorm + fitted) / targetNorm);
}

/** Least-squares coefficients, one per term (0 for a term of no system), from the normal equations. */
export function solveNormalEquations(systems: NormalEquations[], termCount: number): number[] {
  const coefficients = new Array<number>(termCount).fill(0);
  for (const s of systems)
    solveSmall(s.a, s.b).forEach((x, p) => (coefficients[s.indices[p]!] = x));
  return coefficients;
}

/** ‖−τ_e − closure‖ / ‖τ_e‖ per equation of coefficients c (one per term). */
export function relativeResiduals(
  systems: NormalEquations[],
  c: number[],
): Partial<Record<ClosureEquation, number>> {
  return Object.fromEntries(
    systems.map((s) => [
      s.equation,
      relativeResidualOf(
        s,
        s.indices.map((j) => c[j]!),
      ),
    ]),
  );
}

export function fitLeastSquares(
  samples: FitSample[],
  terms: ClosureTerm[],
  grid: SpectralGrid,
): FitResult {
  const systems = normalEquations(samples, terms, grid);
  const coefficients = solveNormalEquations(systems, terms.length);
  const relativeResidual = {
    n: NaN,
    omega: NaN,
    ...relativeResiduals(systems, coefficients),
  };
  return { coefficients, relativeResidual };
}
