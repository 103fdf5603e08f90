/**
 * A simulation's full description and its validation. Everything that defines the trajectory is
 * here (and is written as HDF5 attributes), so a run can be reproduced or resumed from its file.
 * Invalid set-ups are refused before any work with an error naming the problem and the fix,
 * including a dt past the explicit RK4 stability limit of the linear terms (none with IF-RK4; the
 * advective CFL limit depends on the flow and is caught at run time by the blow-up check).
 */
import { SpectralGrid } from '../spectral/grid.ts';
import type { InitialKind } from './initial.ts';
import { type Integrator } from './integrator.ts';
import { closureMatrix, diagonalRate, hwLinearOperator, type ModelParams } from './model.ts';
import { eigenvalues2 } from './propagator.ts';

export class InvalidConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidConfigError';
  }
}

export type Scheme = 'spectral' | 'arakawa';

export interface SimulationConfig {
  model: ModelParams;
  nx: number;
  ny: number;
  lx: number;
  ly: number;
  scheme: Scheme;
  integrator: Integrator;
  dt: number;
  tEnd: number;
  seed: number;
  init: InitialKind;
  initAmplitude: number;
  /** Snapshot interval in time units (0: only the final state). */
  saveEvery: number;
  /** Diagnostic sampling interval in steps. */
  diagEvery: number;
  /**
   * Arithmetic of the CPU path: f32 (PFFFT brackets, float64 RHS and updates; the default) or
   * f64 (all float64, the reference). The WebGPU path is f32.
   */
  precision?: 'f32' | 'f64';
}

export function gridOf(config: SimulationConfig): SpectralGrid {
  return new SpectralGrid({
    nx: config.nx,
    ny: config.ny,
    lx: config.lx,
    ly: config.ly,
    dealias: config.scheme === 'spectral' ? '2/3' : 'none',
  });
}

/** |R(z)| of classical RK4: stable where ≤ 1. */
function rk4Amplification(re: number, im: number): number {
  // R(z) = 1 + z + z²/2 + z³/6 + z⁴/24 by Horner in complex arithmetic.
  let pr = 1 / 24;
  let pi = 0;
  for (const c of [1 / 6, 1 / 2, 1, 1]) {
    const nr = pr * re - pi * im + c;
    const ni = pr * im + pi * re;
    pr = nr;
    pi = ni;
  }
  return Math.hypot(pr, pi);
}

/**
 * Eigenvalues of the linear operator of one mode (model.ts hwLinearOperator for HW; propagator.ts
 * eigenvalues2, the decomposition its exponential uses). `dampingK2` is the symbol of −∇² in the
 * dissipation and `ky` that of −i∂y (both differ from k² and ky for finite differences); the
 * Poisson solve always uses k².
 */
function linearEigenvalues(
  model: ModelParams,
  k2: number,
  ky: number,
  zonal: boolean,
  dampingK2 = k2,
): [number, number][] {
  if (model.kind === 'ns') return [[diagonalRate(model, dampingK2), 0]];
  const operator = hwLinearOperator(model, k2, ky, zonal, dampingK2);
  return k2 === 0 ? [operator[0]] : eigenvalues2(operator);
}

/** Symbol of −∇² for the 5-point Laplacian: (4/dx²) sin²(kx dx/2) + (4/dy²) sin²(ky dy/2). */
export function fivePointSymbol(grid: SpectralGrid, col: number, row: number): number {
  const sx = Math.sin((grid.kx(col) * grid.dx) / 2) / grid.dx;
  const sy = Math.sin((grid.ky(row) * grid.dy) / 2) / grid.dy;
  return 4 * (sx * sx + sy * sy);
}

/** The largest stable dt for the linear terms (bisection on the RK4 amplification factor). */
export function linearStabilityLimit(config: SimulationConfig, grid = gridOf(config)): number {
  // IF-RK4 integrates every linear term exactly (propagator.ts; NS: viscosity and drag).
  if (config.integrator === 'ifrk4') return Infinity;
  const eigen: [number, number][] = [];
  for (let row = 0; row < grid.ny; row++) {
    if (!grid.keptRow(row)) continue;
    for (let col = 0; col < grid.ncols; col++) {
      const k2 = grid.k2[row * grid.ncols + col]!;
      const [dampingK2, ky] =
        config.scheme === 'arakawa'
          ? [fivePointSymbol(grid, col, row), Math.sin(grid.ky(row) * grid.dy) / grid.dy]
          : [k2, grid.ky(row)];
      for (const e of linearEigenvalues(config.model, k2, ky, row === 0, dampingK2))
        if (Math.hypot(e[0], e[1]) > 0) eigen.push(e);
    }
  }
  const stable = (dt: number) =>
    eigen.every(([re, im]) => re * dt > 0 || rk4Amplification(re * dt, im * dt) <= 1 + 1e-12);
  let lo = 0;
  let hi = 1;
  while (stable(hi) && hi < 1e6) hi *= 2;
  if (stable(hi)) return Infinity;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (stable(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The fastest growth rate of the closure's operator at the grid scale (largest kept |k²|): the
 * larger real part of the eigenvalues of its real 2x2 matrix; <= 0 when it damps there.
 */
export function closureGridGrowth(model: ModelParams, maxK2: number): number {
  const [nn, nw, wn, ww] = closureMatrix(model, maxK2);
  const trace = nn + ww;
  const det = nn * ww - nw * wn;
  const discriminant = (trace * trace) / 4 - det;
  return discriminant >= 0 ? trace / 2 + Math.sqrt(discriminant) : trace / 2;
}

/**
 * Why a closure cannot be used, or null: coefficients must match the terms, be finite, and the
 * closure's operator at the grid scale (largest kept |k|) must damp: both eigenvalues need Re <= 0.
 */
function closureProblem(
  closure: NonNullable<Extract<ModelParams, { kind: 'hw' }>['closure']>,
  maxK2: number,
  model: ModelParams,
): string | null {
  if (
    closure.coefficients.length !== closure.terms.length ||
    !closure.coefficients.every(Number.isFinite)
  )
    return `the closure has ${closure.terms.length} terms but coefficients ${JSON.stringify(closure.coefficients)}`;
  const growth = closureGridGrowth(model, maxK2);
  if (growth > 0)
    return `the closure is not damping at the grid scale |k| = ${Math.sqrt(maxK2).toPrecision(4)}: its operator there grows at rate ${growth.toPrecision(3)} (check the coefficient signs; c > 0 damps own-field terms)`;
  return null;
}

/** Throws InvalidConfigError listing every problem with `config`. */
export function validateConfig(config: SimulationConfig): SpectralGrid {
  const problems: string[] = [];
  const m = config.model;
  if (!(config.dt > 0)) problems.push(`dt must be positive, got ${config.dt}`);
  if (!(config.tEnd > 0)) problems.push(`end time must be positive, got ${config.tEnd}`);
  if (!(m.nu >= 0)) problems.push(`viscosity nu must be >= 0, got ${m.nu}`);
  if (m.kind === 'hw') {
    if (!(m.c1 > 0)) problems.push(`c1 must be positive, got ${m.c1}`);
    if (!Number.isInteger(m.hyperOrder) || m.hyperOrder < 1 || m.hyperOrder > 4)
      problems.push(`hyper-diffusion order N must be 1..4, got ${m.hyperOrder}`);
  } else if (!(m.drag >= 0)) problems.push(`drag must be >= 0, got ${m.drag}`);
  if (config.saveEvery < 0) problems.push(`--save-every must be >= 0, got ${config.saveEvery}`);
  let grid: SpectralGrid | undefined;
  try {
    grid = gridOf(config);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (grid && m.kind === 'hw' && m.closure) {
    const problem = closureProblem(m.closure, grid.maxK2, m);
    if (problem) problems.push(problem);
  }
  if (grid && problems.length === 0) {
    const limit = linearStabilityLimit(config, grid);
    if (config.dt > limit)
      problems.push(
        `dt = ${config.dt} is past the explicit RK4 stability limit ${limit.toPrecision(3)} of the linear terms at ${config.nx}x${config.ny}` +
          ` (lower dt, or use --integrator ifrk4, which integrates the linear terms exactly)`,
      );
  }
  if (problems.length > 0)
    throw new InvalidConfigError(`invalid simulation:\n  ${problems.join('\n  ')}`);
  return grid!;
}
