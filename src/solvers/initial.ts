/**
 * Seeded initial conditions, drawn on the CPU in float64 and uploaded, so every device starts from
 * the same state: hw2d-style white noise for HW, the FNO Gaussian random field, a band-limited random
 * vorticity for decaying turbulence, and small noise (or the laminar profile) for Kolmogorov flow.
 */
import { FNO_INITIAL_GRF, sampleGrf } from '../spectral/grf.ts';
import { hermitianColumnZero, type SpectralGrid } from '../spectral/grid.ts';
import { whiteNoise } from '../spectral/random.ts';
import { Transforms2d } from '../spectral/transforms2d.ts';
import { diagonalRate, forcingSpectrum, type ModelParams } from './model.ts';

export type InitialKind = 'noise' | 'fno-grf' | 'decaying' | 'laminar' | 'taylor-green';

function noiseField(grid: SpectralGrid, amplitude: number, seed: number): Float64Array {
  const transforms = new Transforms2d(grid);
  const spec = transforms.newSpectral();
  transforms.forward(
    whiteNoise(grid.realSize, seed).map((v) => amplitude * v),
    spec,
  );
  return spec;
}

/** Scales a vorticity spectrum in place so that ½⟨|u|²⟩ = energy. */
function normaliseEnergy(grid: SpectralGrid, omega: Float64Array, energy: number): void {
  let e = 0;
  for (let i = 0; i < grid.spectralSize; i++) {
    const k2 = grid.k2[i]!;
    if (k2 > 0) e += (0.5 * grid.weight[i]! * (omega[2 * i]! ** 2 + omega[2 * i + 1]! ** 2)) / k2;
  }
  const scale = e > 0 ? Math.sqrt(energy / e) : 0;
  for (let i = 0; i < omega.length; i++) omega[i] = omega[i]! * scale;
}

/** The initial spectral fields of `kind`, exactly Hermitian in the kx = 0 column. */
export function initialState(
  params: ModelParams,
  grid: SpectralGrid,
  kind: InitialKind,
  amplitude: number,
  seed: number,
): Float64Array[] {
  const fields = drawInitialState(params, grid, kind, amplitude, seed);
  for (const field of fields) hermitianColumnZero(field, grid);
  return fields;
}

function drawInitialState(
  params: ModelParams,
  grid: SpectralGrid,
  kind: InitialKind,
  amplitude: number,
  seed: number,
): Float64Array[] {
  switch (kind) {
    case 'noise': {
      const fields =
        params.kind === 'hw'
          ? [noiseField(grid, amplitude, seed), noiseField(grid, amplitude, seed + 1)]
          : [noiseField(grid, amplitude, seed)];
      const vorticity = fields[fields.length - 1]!;
      vorticity[0] = vorticity[1] = 0;
      return fields;
    }
    case 'fno-grf':
      return [sampleGrf(grid, FNO_INITIAL_GRF, seed)];
    case 'decaying': {
      // Energy spectrum ∝ k⁴ exp(−2 (k/k_p)²) peaking at k_p = 10 box modes, unit kinetic energy ½.
      const spec = noiseField(grid, 1, seed);
      const kp = 10 * Math.min(grid.dkx, grid.dky);
      for (let i = 0; i < grid.spectralSize; i++) {
        const k = Math.sqrt(grid.k2[i]!);
        const shape = k === 0 ? 0 : k ** 2 * Math.exp(-((k / kp) ** 2));
        spec[2 * i] = spec[2 * i]! * shape;
        spec[2 * i + 1] = spec[2 * i + 1]! * shape;
      }
      normaliseEnergy(grid, spec, 0.5 * amplitude ** 2);
      return [spec];
    }
    case 'laminar': {
      // The steady response to the forcing, ω̂ = f̂ / (ν k² + μ), plus optional noise.
      const forcing = forcingSpectrum(params, grid);
      if (!forcing) throw new Error("the 'laminar' initial state needs a forced NS case");
      const omega = noiseField(grid, amplitude, seed);
      for (let i = 0; i < grid.spectralSize; i++) {
        const rate = -diagonalRate(params, grid.k2[i]!);
        if (rate > 0) {
          omega[2 * i] = omega[2 * i]! + forcing[2 * i]! / rate;
          omega[2 * i + 1] = omega[2 * i + 1]! + forcing[2 * i + 1]! / rate;
        }
      }
      omega[0] = omega[1] = 0;
      return [omega];
    }
    case 'taylor-green': {
      // ω = 2A cos x cos y on a 2π box: a steady Euler solution that decays as exp(−2νt).
      const omega = new Float64Array(2 * grid.spectralSize);
      const row = Math.round(grid.ly / (2 * Math.PI));
      const col = Math.round(grid.lx / (2 * Math.PI));
      omega[2 * (row * grid.ncols + col)] = amplitude / 2;
      omega[2 * ((grid.ny - row) * grid.ncols + col)] = amplitude / 2;
      return [omega];
    }
  }
}
