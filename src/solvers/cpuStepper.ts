/**
 * The pseudo-spectral stepper on the CPU, in float64: the reference the WGSL stepper is tested
 * against and the fallback when there is no GPU. A `BracketEngine` (the float32 PFFFT path) can
 * take over the brackets, the only FFT work; the RHS and stage updates stay float64. It follows the GPU kernels' structure exactly:
 * column inverse FFTs of φ̂, i·ky φ̂, f̂, i·ky f̂; per row the inverse x-FFTs (times i·kx for ∂x), the
 * bracket [φ, f] = ∂xφ ∂yf − ∂yφ ∂xf and its forward x-FFT; forward column FFTs; the RHS per mode.
 */
import { hermitianColumnZero, type SpectralGrid } from '../spectral/grid.ts';
import { Transforms2d } from '../spectral/transforms2d.ts';
import { type Integrator, STAGES } from './integrator.ts';
import { applyPropagator, hwPropagators } from './propagator.ts';
import {
  closureMatrices,
  diagonalRate,
  forcingSpectrum,
  type ModelParams,
  potentialOf,
} from './model.ts';

/** Computes the de-aliased spectral brackets [φ, f] of every field (pffftBrackets.ts). */
export interface BracketEngine {
  brackets(phi: Float64Array, fields: Float64Array[], out: Float64Array[]): void;
}

/** e^n for the stage powers n ∈ {0, 1, 2} (no allocation in the per-mode loop). */
function power(e: number, n: number): number {
  return n === 0 ? 1 : n === 1 ? e : e * e;
}

export class CpuSpectralStepper {
  readonly transforms: Transforms2d;
  readonly fieldCount: number;
  /** Evolved fields, each interleaved complex in the grid's spectral layout. */
  readonly state: Float64Array[];
  readonly #next: Float64Array[];
  readonly #acc: Float64Array[];
  readonly #k: Float64Array[];
  readonly #potential: Float64Array;
  readonly #columns: Float64Array[];
  readonly #halfRows: Float64Array[];
  readonly #products: Float64Array[];
  readonly #rows: Float64Array[];
  /** exp(L dt/2) per mode for IF-RK4 of NS (scalar), null otherwise. */
  readonly #factor: Float64Array | null;
  /** exp(L dt/2) per mode for IF-RK4 of HW (2x2 complex, propagator.ts), null otherwise. */
  readonly #propagator: Float64Array | null;
  readonly #forcing: Float64Array | null;
  readonly #rate: Float64Array;
  /** The closure's 2x2 matrix per mode (nn, nw, wn, ww), or null without a closure. */
  readonly #closure: Float64Array | null;

  constructor(
    readonly grid: SpectralGrid,
    readonly params: ModelParams,
    readonly dt: number,
    readonly integrator: Integrator,
    readonly engine: BracketEngine | null = null,
  ) {
    this.transforms = new Transforms2d(grid);
    this.fieldCount = params.kind === 'hw' ? 2 : 1;
    const spectral = () => this.transforms.newSpectral();
    const many = (count: number) => Array.from({ length: count }, spectral);
    this.state = many(this.fieldCount);
    this.#next = many(this.fieldCount);
    this.#acc = many(this.fieldCount);
    this.#k = many(this.fieldCount);
    this.#potential = spectral();
    this.#columns = many(2 * (this.fieldCount + 1));
    this.#halfRows = many(this.fieldCount);
    this.#products = many(this.fieldCount);
    this.#rows = Array.from({ length: 4 }, () => new Float64Array(grid.nx));
    this.#rate = grid.k2.map((k2) => diagonalRate(params, k2));
    const integrating = integrator === 'ifrk4';
    this.#factor =
      integrating && params.kind === 'ns' ? this.#rate.map((l) => Math.exp((l * dt) / 2)) : null;
    this.#propagator = integrating && params.kind === 'hw' ? hwPropagators(params, grid, dt) : null;
    this.#forcing = forcingSpectrum(params, grid);
    this.#closure = closureMatrices(params, grid);
  }

  /** φ̂ of `fields` (see model.ts potentialOf), into the stepper's own buffer by default. */
  potential(fields: Float64Array[], out: Float64Array = this.#potential): Float64Array {
    return potentialOf(this.params, this.grid, fields, out);
  }

  /** Spectral Poisson brackets [φ, f] of every evolved field, de-aliased. */
  brackets(fields: Float64Array[], out: Float64Array[] = this.#products): Float64Array[] {
    if (this.engine) {
      this.engine.brackets(this.potential(fields), fields, out);
      return out;
    }
    const t = this.transforms;
    const { nx, ny } = this.grid;
    const sources = [this.potential(fields), ...fields];
    sources.forEach((source, s) => {
      t.columnsInverse(source, this.#columns[2 * s]!, false);
      t.columnsInverse(source, this.#columns[2 * s + 1]!, true);
    });
    const [dxPhi, dyPhi, dxF, dyF] = this.#rows as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    for (let row = 0; row < ny; row++) {
      t.rowInverse(this.#columns[0]!, row, dxPhi, 0, true);
      t.rowInverse(this.#columns[1]!, row, dyPhi, 0, false);
      for (let f = 0; f < this.fieldCount; f++) {
        t.rowInverse(this.#columns[2 * f + 2]!, row, dxF, 0, true);
        t.rowInverse(this.#columns[2 * f + 3]!, row, dyF, 0, false);
        for (let x = 0; x < nx; x++) dxF[x] = dxPhi[x]! * dyF[x]! - dyPhi[x]! * dxF[x]!;
        t.rowForward(dxF, 0, this.#halfRows[f]!, row);
      }
    }
    for (let f = 0; f < this.fieldCount; f++)
      t.columnsForward(this.#halfRows[f]!, out[f]!, 1 / (nx * ny));
    return out;
  }

  /**
   * Time derivative of `fields` into `out`: with IF-RK4 only what the integrating factor leaves
   * (HW: the brackets; NS: brackets and forcing), with RK4 every term.
   */
  rhs(fields: Float64Array[], out: Float64Array[]): void {
    const products = this.brackets(fields);
    for (const product of products) hermitianColumnZero(product, this.grid);
    const phi = this.#potential;
    const { grid, params } = this;
    const { ncols } = grid;
    const rate = this.#factor ? null : this.#rate;
    const [n, w] = fields as [Float64Array, Float64Array];
    const [p0, p1] = products as [Float64Array, Float64Array];
    const [k0, k1] = out as [Float64Array, Float64Array];
    const f = this.#forcing;
    for (let row = 0; row < grid.ny; row++) {
      const ky = grid.ky(row);
      const c = params.kind === 'hw' ? (params.modified && row === 0 ? 0 : params.c1) : 0;
      const kappaKy = params.kind === 'hw' ? params.kappa * ky : 0;
      for (let col = 0; col < ncols; col++) {
        const i = row * ncols + col;
        const re = 2 * i;
        const im = re + 1;
        const l = rate ? rate[i]! : 0;
        const mean = i === 0 ? 0 : 1; // ⟨Ω⟩ = 0: Ω = ∇²φ has no k = 0 mode
        if (params.kind === 'hw' && this.#propagator) {
          k0[re] = -p0[re]!;
          k0[im] = -p0[im]!;
          k1[re] = -mean * p1[re]!;
          k1[im] = -mean * p1[im]!;
        } else if (params.kind === 'hw') {
          const cr = c * (phi[re]! - n[re]!);
          const ci = c * (phi[im]! - n[im]!);
          k0[re] = -p0[re]! + cr + kappaKy * phi[im]! + l * n[re]!;
          k0[im] = -p0[im]! + ci - kappaKy * phi[re]! + l * n[im]!;
          k1[re] = mean * (-p1[re]! + cr + l * w[re]!);
          k1[im] = mean * (-p1[im]! + ci + l * w[im]!);
          const m = this.#closure;
          if (m) {
            const [nn, nw, wn, ww] = [m[4 * i]!, m[4 * i + 1]!, m[4 * i + 2]!, m[4 * i + 3]!];
            k0[re] = k0[re]! + nn * n[re]! + nw * w[re]!;
            k0[im] = k0[im]! + nn * n[im]! + nw * w[im]!;
            k1[re] = k1[re]! + mean * (wn * n[re]! + ww * w[re]!);
            k1[im] = k1[im]! + mean * (wn * n[im]! + ww * w[im]!);
          }
        } else {
          k0[re] = -p0[re]! + (f ? f[re]! : 0) + l * n[re]!;
          k0[im] = -p0[im]! + (f ? f[im]! : 0) + l * n[im]!;
        }
      }
    }
  }

  /** One RK4 (or IF-RK4) step of size dt. */
  step(): void {
    const u = this.state;
    const e = this.#factor;
    const dt = this.dt;
    let input = u;
    for (let s = 0; s < 4; s++) {
      this.rhs(input, this.#k);
      if (this.#propagator) {
        this.#coupledUpdate(s, this.#propagator);
        input = this.#next;
        continue;
      }
      for (let f = 0; f < this.fieldCount; f++) {
        const uf = u[f]!;
        const kf = this.#k[f]!;
        const acc = this.#acc[f]!;
        const next = this.#next[f]!;
        const modes = uf.length / 2;
        if (s === 3) {
          for (let i = 0; i < modes; i++) {
            const e1 = e ? e[i]! : 1;
            const e2 = e1 * e1;
            uf[2 * i] = e2 * uf[2 * i]! + (dt / 6) * (acc[2 * i]! + kf[2 * i]!);
            uf[2 * i + 1] = e2 * uf[2 * i + 1]! + (dt / 6) * (acc[2 * i + 1]! + kf[2 * i + 1]!);
          }
          continue;
        }
        const { a, b, beta, gamma, c } = STAGES[s]!;
        const first = s === 0 ? 0 : 1;
        for (let i = 0; i < modes; i++) {
          const e1 = e ? e[i]! : 1;
          const ea = power(e1, a);
          const eb = dt * beta * power(e1, b);
          const ec = gamma * power(e1, c);
          for (let p = 2 * i; p < 2 * i + 2; p++) {
            next[p] = ea * uf[p]! + eb * kf[p]!;
            acc[p] = first * acc[p]! + ec * kf[p]!;
          }
        }
      }
      input = this.#next;
    }
  }

  /** Stage s's update (integrator.ts) with the 2x2 propagator: both fields of a mode at once. */
  #coupledUpdate(s: number, e: Float64Array): void {
    const [n, w] = this.state as [Float64Array, Float64Array];
    const [kn, kw] = this.#k as [Float64Array, Float64Array];
    const [an, aw] = this.#acc as [Float64Array, Float64Array];
    const [xn, xw] = this.#next as [Float64Array, Float64Array];
    const dt = this.dt;
    const u = new Float64Array(4);
    const k = new Float64Array(4);
    const stage = STAGES[s];
    // (n̂, Ω̂) of mode i from a pair of interleaved fields, into `v` (no allocation per mode).
    const load = (v: Float64Array, a: Float64Array, b: Float64Array, i: number) => {
      v[0] = a[2 * i]!;
      v[1] = a[2 * i + 1]!;
      v[2] = b[2 * i]!;
      v[3] = b[2 * i + 1]!;
    };
    for (let i = 0; i < n.length / 2; i++) {
      const re = 2 * i;
      const im = re + 1;
      load(u, n, w, i);
      if (!stage) {
        applyPropagator(e, i, 2, u);
        n[re] = u[0]! + (dt / 6) * (an[re]! + kn[re]!);
        n[im] = u[1]! + (dt / 6) * (an[im]! + kn[im]!);
        w[re] = u[2]! + (dt / 6) * (aw[re]! + kw[re]!);
        w[im] = u[3]! + (dt / 6) * (aw[im]! + kw[im]!);
        continue;
      }
      applyPropagator(e, i, stage.a, u);
      load(k, kn, kw, i);
      applyPropagator(e, i, stage.b, k);
      xn[re] = u[0]! + dt * stage.beta * k[0]!;
      xn[im] = u[1]! + dt * stage.beta * k[1]!;
      xw[re] = u[2]! + dt * stage.beta * k[2]!;
      xw[im] = u[3]! + dt * stage.beta * k[3]!;
      load(k, kn, kw, i);
      applyPropagator(e, i, stage.c, k);
      const first = s === 0 ? 0 : 1;
      an[re] = first * an[re]! + stage.gamma * k[0]!;
      an[im] = first * an[im]! + stage.gamma * k[1]!;
      aw[re] = first * aw[re]! + stage.gamma * k[2]!;
      aw[im] = first * aw[im]! + stage.gamma * k[3]!;
    }
  }
}
