/**
 * `--scheme arakawa`: Hasegawa-Wakatani with hw2d's finite-difference scheme, for like-for-like
 * comparison with hw2d (../shared/notes/hw-and-ehwc.md §2.1): the Arakawa (1966) bracket (mean of
 * J++, J+x, Jx+), ∂y by second-order central differences, hyper-diffusion as the 5-point Laplacian
 * applied N times, φ from the FFT Poisson solve with the continuous symbol −k², classical RK4 with
 * φ re-solved every stage. Fields live in physical space (float64, CPU); the state is exchanged
 * with the run loop as full (not de-aliased) spectra, and diagnostics are computed from those.
 */
import type { SpectralGrid } from '../spectral/grid.ts';
import { Transforms2d } from '../spectral/transforms2d.ts';
import { InvalidConfigError } from './config.ts';
import { diagnose } from './diagnostics.ts';
import { type HwParams, potentialOf } from './model.ts';
import { type Advanced, advanceBySegments, type Stepper } from './stepper.ts';

/**
 * Arakawa's energy- and enstrophy-conserving Jacobian J(a, b) = ∂x a ∂y b − ∂y a ∂x b on a periodic
 * (y, x) row-major grid with spacing d in both directions, into `out`.
 */
export function arakawaBracket(
  a: Float64Array,
  b: Float64Array,
  nx: number,
  ny: number,
  d: number,
  out: Float64Array,
): void {
  const scale = 1 / (12 * d * d);
  for (let j = 0; j < ny; j++) {
    const up = ((j + 1) % ny) * nx;
    const down = ((j - 1 + ny) % ny) * nx;
    const here = j * nx;
    for (let i = 0; i < nx; i++) {
      const ip = (i + 1) % nx;
      const im = (i - 1 + nx) % nx;
      const aE = a[here + ip]!;
      const aW = a[here + im]!;
      const aN = a[up + i]!;
      const aS = a[down + i]!;
      const bE = b[here + ip]!;
      const bW = b[here + im]!;
      const bN = b[up + i]!;
      const bS = b[down + i]!;
      const aNE = a[up + ip]!;
      const aNW = a[up + im]!;
      const aSE = a[down + ip]!;
      const aSW = a[down + im]!;
      const bNE = b[up + ip]!;
      const bNW = b[up + im]!;
      const bSE = b[down + ip]!;
      const bSW = b[down + im]!;
      const jpp = (aE - aW) * (bN - bS) - (aN - aS) * (bE - bW);
      const jpx = aE * (bNE - bSE) - aW * (bNW - bSW) - aN * (bNE - bNW) + aS * (bSE - bSW);
      const jxp = bN * (aNE - aNW) - bS * (aSE - aSW) - bE * (aNE - aSE) + bW * (aNW - aSW);
      out[here + i] = (jpp + jpx + jxp) * scale;
    }
  }
}

/** The 5-point Laplacian of `f` (spacing d) into `out`. */
export function laplacian5(f: Float64Array, nx: number, ny: number, d: number, out: Float64Array) {
  const scale = 1 / (d * d);
  for (let j = 0; j < ny; j++) {
    const up = ((j + 1) % ny) * nx;
    const down = ((j - 1 + ny) % ny) * nx;
    const here = j * nx;
    for (let i = 0; i < nx; i++) {
      const e = f[here + ((i + 1) % nx)]!;
      const w = f[here + ((i - 1 + nx) % nx)]!;
      out[here + i] = (e + w + f[up + i]! + f[down + i]! - 4 * f[here + i]!) * scale;
    }
  }
}

export class ArakawaStepper implements Stepper {
  readonly deviceLabel = 'cpu (float64 Arakawa finite differences, hw2d scheme)';
  readonly #t: Transforms2d;
  readonly #d: number;
  /** n, Ω in physical space. */
  readonly #state: [Float64Array, Float64Array];
  /** φ, bracket, coupling, Laplacian scratch of the RHS. */
  readonly #work: [Float64Array, Float64Array, Float64Array, Float64Array];
  /** Stage input, stage derivative and RK4 accumulator of n and Ω. */
  readonly #stage: { input: Float64Array[]; k: Float64Array[]; acc: Float64Array[] };
  readonly #spec: Float64Array;
  readonly #phiSpec: Float64Array;

  constructor(
    readonly grid: SpectralGrid,
    readonly params: HwParams,
    readonly dt: number,
  ) {
    if (grid.dealias !== 'none' || Math.abs(grid.dx - grid.dy) > 1e-12 * grid.dx)
      throw new InvalidConfigError(
        '--scheme arakawa needs a square grid spacing (lx/nx = ly/ny) without de-aliasing',
      );
    this.#t = new Transforms2d(grid);
    this.#d = grid.dx;
    const real = () => new Float64Array(grid.realSize);
    this.#state = [real(), real()];
    this.#work = [real(), real(), real(), real()];
    this.#stage = { input: [real(), real()], k: [real(), real()], acc: [real(), real()] };
    this.#spec = this.#t.newSpectral();
    this.#phiSpec = this.#t.newSpectral();
  }

  async setState(fields: Float64Array[]): Promise<void> {
    fields.forEach((field, f) => this.#t.inverse(field, this.#state[f]!));
  }

  async getState(): Promise<Float64Array[]> {
    return this.#state.map((field) => {
      const spec = this.#t.newSpectral();
      this.#t.forward(field, spec);
      return spec;
    });
  }

  /** φ of Ω by the FFT Poisson solve (continuous symbol, ⟨φ⟩ = 0), into `phi`. */
  #potential(omega: Float64Array, phi: Float64Array): void {
    this.#t.forward(omega, this.#spec);
    potentialOf(this.params, this.grid, [this.#spec, this.#spec], this.#phiSpec);
    this.#t.inverse(this.#phiSpec, phi);
  }

  /** −ν (−Δ₅)^N f into `out`, using `scratch`. */
  #hyperDiffusion(f: Float64Array, out: Float64Array, scratch: Float64Array): void {
    const { nx, ny } = this.grid;
    const order = this.params.hyperOrder;
    let source = f;
    for (let p = 0; p < order; p++) {
      const target = (order - p) % 2 === 1 ? out : scratch;
      laplacian5(source, nx, ny, this.#d, target);
      source = target;
    }
    const sign = order % 2 === 1 ? 1 : -1; // −ν (−1)^N Δ^N
    for (let i = 0; i < out.length; i++) out[i] = sign * this.params.nu * out[i]!;
  }

  /** d/dt (n, Ω) into (kn, kw). */
  rhs(n: Float64Array, w: Float64Array, kn: Float64Array, kw: Float64Array): void {
    const { nx, ny } = this.grid;
    const [phi, bracket, coupling, scratch] = this.#work;
    const { c1, kappa, modified } = this.params;
    this.#potential(w, phi);
    for (let i = 0; i < coupling.length; i++) coupling[i] = c1 * (phi[i]! - n[i]!);
    if (modified)
      for (let i = 0; i < nx; i++) {
        let mean = 0;
        for (let j = 0; j < ny; j++) mean += coupling[j * nx + i]!;
        mean /= ny;
        for (let j = 0; j < ny; j++) coupling[j * nx + i] = coupling[j * nx + i]! - mean;
      }
    this.#hyperDiffusion(n, kn, scratch);
    arakawaBracket(phi, n, nx, ny, this.#d, bracket);
    for (let j = 0; j < ny; j++) {
      const up = ((j + 1) % ny) * nx;
      const down = ((j - 1 + ny) % ny) * nx;
      for (let i = 0; i < nx; i++) {
        const dyPhi = (phi[up + i]! - phi[down + i]!) / (2 * this.#d);
        const k = j * nx + i;
        kn[k] = kn[k]! - bracket[k]! + coupling[k]! - kappa * dyPhi;
      }
    }
    this.#hyperDiffusion(w, kw, scratch);
    arakawaBracket(phi, w, nx, ny, this.#d, bracket);
    for (let k = 0; k < kw.length; k++) kw[k] = kw[k]! - bracket[k]! + coupling[k]!;
  }

  /** One classical RK4 step. */
  step(): void {
    const u = this.#state;
    const { input, k, acc } = this.#stage;
    const weights = [1, 2, 2, 1];
    const advanceBy = [0.5, 0.5, 1];
    let stageInput: Float64Array[] = u;
    for (let s = 0; s < 4; s++) {
      this.rhs(stageInput[0]!, stageInput[1]!, k[0]!, k[1]!);
      for (let f = 0; f < 2; f++) {
        const [uf, kf, af, nf] = [u[f]!, k[f]!, acc[f]!, input[f]!];
        const first = s === 0 ? 0 : 1;
        const h = s < 3 ? advanceBy[s]! * this.dt : 0;
        for (let i = 0; i < uf.length; i++) {
          af[i] = first * af[i]! + weights[s]! * kf[i]!;
          nf[i] = uf[i]! + h * kf[i]!;
        }
      }
      stageInput = input;
    }
    for (let f = 0; f < 2; f++) {
      const [uf, af] = [u[f]!, acc[f]!];
      for (let i = 0; i < uf.length; i++) uf[i] = uf[i]! + (this.dt / 6) * af[i]!;
    }
  }

  async advance(steps: number, diagEvery: number): Promise<Float64Array> {
    const samples: number[] = [];
    for (let s = 1; s <= steps; s++) {
      this.step();
      if (s % diagEvery === 0) {
        const state = await this.getState();
        const phi = potentialOf(this.params, this.grid, state);
        const { scalars, names } = diagnose(this.params, this.grid, state, phi);
        for (const name of names) samples.push(scalars[name]!);
      }
    }
    return Float64Array.from(samples);
  }

  advanceCapturing(
    steps: number,
    diagEvery: number,
    captureAfter: readonly number[],
  ): Promise<Advanced> {
    return advanceBySegments(this, steps, diagEvery, captureAfter);
  }

  destroy(): void {}
}
