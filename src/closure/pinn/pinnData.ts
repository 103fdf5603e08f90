/**
 * The training data of the physics-informed closure fit, one record per regime: the coarse
 * trajectory as mode coefficients of the real Fourier basis (for rollouts), the normal equations of
 * the a-priori residual (fit.ts), and per-band error weights that make every band of scales count
 * the same in the rollout loss (the closure acts at the small scales, which hold little energy).
 */
import { readH5 } from '../../io/hdf5.ts';
import { SafetensorsFile, type TensorToWrite, writeSafetensors } from '../../io/safetensors.ts';
import { InvalidConfigError } from '../../solvers/config.ts';
import type { HwParams } from '../../solvers/model.ts';
import { readCoarseData } from '../dataset.ts';
import { type NormalEquations, normalEquations } from '../fit.ts';
import type { ClosureTerm } from '../terms.ts';
import { type CoarseBases, coarseBases } from './coarseModel.ts';
import { toModes } from './fourierBasis.ts';

export interface CoarseGridSpec {
  nx: number;
  ny: number;
  lx: number;
  ly: number;
}

export interface RegimeData {
  source: string;
  model: HwParams;
  grid: CoarseGridSpec;
  /** Snapshot times, equally spaced by `spacing`. */
  times: number[];
  spacing: number;
  /** Mode coefficients [T, Ky, Kx] of n̄ and Ω̄ (float32, row-major). */
  n: Float32Array;
  omega: Float32Array;
  /** The a-priori residual's normal equations (absent: no sub-grid terms, rollouts only). */
  residual?: NormalEquations[];
  /** Rollout error weights per mode [Ky, Kx] of n and Ω (see bandWeights). */
  weights: { n: Float32Array; omega: Float32Array };
}

/** Radial band edges in mode-index units: large scales to the grid scale. */
export const BAND_EDGES = [0, 2, 4, 8, 16, Infinity];

/**
 * Weights w such that Σ_modes w (f − g)² = mean over non-empty bands of ‖P_b(f − g)‖² / E_b, with
 * E_b the band's mean energy over the snapshots `modes` [T, Ky, Kx], halved (two fields add up).
 */
export function bandWeights(modes: Float32Array, bases: CoarseBases): Float32Array {
  const [ky, kx] = [bases.y.modes, bases.x.modes];
  const size = ky * kx;
  const count = modes.length / size;
  const band = Int32Array.from({ length: size }, (_, i) => {
    const radius = Math.hypot(bases.y.index[Math.floor(i / kx)]!, bases.x.index[i % kx]!);
    return BAND_EDGES.findIndex((edge, b) => radius >= edge && radius < BAND_EDGES[b + 1]!);
  });
  const energy = new Float64Array(BAND_EDGES.length);
  for (let t = 0; t < count; t++)
    for (let i = 0; i < size; i++)
      energy[band[i]!] = energy[band[i]!]! + modes[t * size + i]! ** 2 / count;
  const used = energy.filter((e) => e > 0).length;
  return Float32Array.from(band, (b) => (energy[b]! > 0 ? 1 / (2 * used * energy[b]!) : 0));
}

/** A regime's record from trajectories already in the basis (tests, or data made in memory). */
export function regimeData(
  source: string,
  model: HwParams,
  grid: CoarseGridSpec,
  times: number[],
  n: Float32Array,
  omega: Float32Array,
  residual?: NormalEquations[],
): RegimeData {
  const steps = times.slice(1).map((t, i) => t - times[i]!);
  const spacing = steps[0] ?? 0;
  if (steps.length === 0 || steps.some((d) => Math.abs(d - spacing) > 1e-6 * spacing))
    throw new InvalidConfigError(
      `${source}: the snapshots must be equally spaced in time (at least two); make the data with \`hw run --resume FILE --save-every H\` and \`closure prepare --from T\` (bench/ehwc-pinn-data.sh)`,
    );
  const bases = coarseBases(grid);
  const weights = { n: bandWeights(n, bases), omega: bandWeights(omega, bases) };
  return { source, model, grid, times, spacing, n, omega, residual, weights };
}

/**
 * The longest run [first, end) of equally spaced times (a dense continuation's file also holds the
 * earlier run's sparser snapshots, and the run loop rounds the interval to whole sampling chunks).
 */
export function equallySpacedRun(times: number[]): [number, number] {
  let best: [number, number] = [0, Math.min(1, times.length)];
  let first = 0;
  for (let i = 1; i <= times.length; i++) {
    const same =
      i < times.length &&
      (i - first < 2 ||
        Math.abs(times[i]! - times[i - 1]! - (times[first + 1]! - times[first]!)) <
          1e-6 * (times[i]! - times[i - 1]!));
    if (!same) {
      if (i - first > best[1] - best[0]) best = [first, i];
      first = i - 1;
    }
  }
  return best;
}

/** Reads a `closure prepare` file: trajectory in the basis and the residual's normal equations. */
export async function readRegimeData(path: string, terms: ClosureTerm[]): Promise<RegimeData> {
  const coarse = await readCoarseData(path);
  if (coarse.dnsConfig.model.kind !== 'hw')
    throw new InvalidConfigError(`${path} is not coarse-grained HW data`);
  const { nx, ny, lx, ly } = coarse.grid;
  const bases = coarseBases(coarse.grid);
  const file = await readH5(path);
  try {
    const allTimes = Array.from(file.get('/time').data);
    const [first, end] = equallySpacedRun(allTimes);
    const times = allTimes.slice(first, end);
    const inBasis = (name: string) => {
      const all = file.get(name).data;
      const size = nx * ny;
      const out = new Float32Array(times.length * bases.y.modes * bases.x.modes);
      for (let t = 0; t < times.length; t++)
        out.set(
          toModes(
            Float64Array.from(all.subarray((first + t) * size, (first + t + 1) * size)),
            bases.y,
            bases.x,
          ),
          t * bases.y.modes * bases.x.modes,
        );
      return out;
    };
    const residual = normalEquations(coarse.samples, terms, coarse.grid);
    const model = { ...coarse.dnsConfig.model, closure: undefined };
    return regimeData(
      path,
      model,
      { nx, ny, lx, ly },
      times,
      inBasis('/coarse/n'),
      inBasis('/coarse/omega'),
      residual,
    );
  } finally {
    file.close();
  }
}

/**
 * The regimes' training data in one small file (mode coefficients in float32, the normal equations
 * in the metadata): `closure fit --method pinn` writes it next to the network, so a refit needs
 * neither the prepare files (tens of MB each) nor the DNS, and `--data` accepts it.
 */
export async function writeTrainingData(path: string, data: RegimeData[]): Promise<void> {
  const tensors: Record<string, TensorToWrite> = {};
  data.forEach((d, i) => {
    const shape = [d.times.length, d.n.length / d.times.length];
    tensors[`r${i}/n`] = { dtype: 'F32', shape, data: d.n };
    tensors[`r${i}/omega`] = { dtype: 'F32', shape, data: d.omega };
  });
  const regimes = data.map(({ source, model, grid, times, residual }) => ({
    source,
    model,
    grid,
    times,
    residual,
  }));
  await writeSafetensors(path, tensors, { driftflow_pinn_data: JSON.stringify(regimes) });
}

export async function readTrainingData(path: string): Promise<RegimeData[]> {
  const file = await SafetensorsFile.open(path);
  try {
    const json = file.metadata.driftflow_pinn_data;
    if (!json)
      throw new InvalidConfigError(
        `${path} is not the training data of a \`closure fit --method pinn\``,
      );
    const regimes = JSON.parse(json) as Pick<
      RegimeData,
      'source' | 'model' | 'grid' | 'times' | 'residual'
    >[];
    const out: RegimeData[] = [];
    for (const [i, r] of regimes.entries())
      out.push(
        regimeData(
          r.source,
          r.model,
          r.grid,
          r.times,
          await file.readFloat32(`r${i}/n`),
          await file.readFloat32(`r${i}/omega`),
          r.residual,
        ),
      );
    return out;
  } finally {
    await file.close();
  }
}
