/**
 * The numbers of `closure report`: for a DNS run and coarse runs (EHW-C, bare, hyper-viscosity...)
 * the time averages of Γn, Γc, E, U over t ≥ from, their PDFs, and ky-spectra of n, φ and the
 * kinetic energy averaged over the snapshots at t ≥ from. Every spectrum is taken on one report grid
 * (the coarsest run's 2/3-de-aliased modes): the DNS enters through the same sharp cut-off filter
 * that `closure prepare` uses, so "DNS (filtered)" and the coarse runs compare mode by mode.
 * The same snapshots also give the averages of the resolved modes alone (`resolvedAverages`): for
 * the DNS these leave out what lies beyond the coarse grid's cut-off (much of U = ½⟨(n − Ω)²⟩ at
 * high k), the part of the DNS's own averages no coarse model can hold.
 */
import { readH5 } from '../io/hdf5.ts';
import { gridOf, InvalidConfigError, type SimulationConfig } from '../solvers/config.ts';
import { SpectralGrid } from '../spectral/grid.ts';
import { Transforms2d } from '../spectral/transforms2d.ts';
import { diagnose } from '../solvers/diagnostics.ts';
import { coarsenSpectrum } from './coarsen.ts';

export const SPECTRUM_FIELDS = ['n', 'phi', 'kinetic'] as const;
export type SpectrumField = (typeof SPECTRUM_FIELDS)[number];
export const AVERAGED = ['gamma_n', 'gamma_c', 'energy', 'enstrophy'] as const;
export type Averages = Record<(typeof AVERAGED)[number], number>;

export interface RunRecord {
  label: string;
  file: string;
  config: SimulationConfig;
  device: string;
  /** Wall seconds the run took to reach its end time (all sessions), if the file records it. */
  wallSeconds: number | null;
  time: Float64Array;
  series: Record<'gamma_n' | 'gamma_c' | 'energy' | 'enstrophy', Float64Array>;
  averages: Averages;
  /** Averages over the snapshots at t >= from of the modes on the report grid alone (null: no snapshots). */
  resolvedAverages: Averages | null;
  samples: number;
  snapshots: number;
  /** Last snapshot of n on the run's own grid (for the gallery). */
  lastN: { data: Float32Array | Float64Array; ny: number; nx: number } | null;
  spectra: Record<SpectrumField, Float64Array> | null;
}

function seriesOf(file: Awaited<ReturnType<typeof readH5>>, name: string): Float64Array {
  return Float64Array.from(file.get(`/timeseries/${name}`).data);
}

/** ½|f̂|² weights per ky index of one half spectrum on `grid` (sum over kx and ±ky). */
export function kySpectrum(
  spec: Float64Array,
  grid: SpectralGrid,
  factor: (k2: number) => number,
): Float64Array {
  const out = new Float64Array(grid.kmaxY + 1);
  for (let row = 0; row < grid.ny; row++) {
    if (!grid.keptRow(row)) continue;
    const ky = Math.abs(grid.rowIndex(row));
    for (let col = 0; col < grid.ncols; col++) {
      const i = row * grid.ncols + col;
      if (grid.k2[i]! === 0) continue;
      const power = spec[2 * i]! ** 2 + spec[2 * i + 1]! ** 2;
      out[ky] = out[ky]! + 0.5 * grid.weight[i]! * factor(grid.k2[i]!) * power;
    }
  }
  return out;
}

/**
 * Reads one HW run file: series, averages over t >= from and (unless `withFields` is false) the
 * mean ky-spectra of its snapshots on `reportGrid`.
 */
export async function readRunRecord(
  label: string,
  path: string,
  from: number,
  reportGrid: (config: SimulationConfig) => SpectralGrid,
  withFields = true,
): Promise<RunRecord> {
  const file = await readH5(path).catch((error: Error) => {
    throw new InvalidConfigError(`cannot read run ${path}: ${error.message}`);
  });
  try {
    const json = file.attrs.config_json;
    if (typeof json !== 'string')
      throw new InvalidConfigError(
        `${path} has no config_json attribute: pass driftflow run files`,
      );
    const config = JSON.parse(json) as SimulationConfig;
    if (config.model.kind !== 'hw')
      throw new InvalidConfigError(
        `${path} is a ${config.model.kind} run; the report needs HW runs`,
      );
    if (!file.paths.includes('/timeseries/time'))
      throw new InvalidConfigError(`${path} has no diagnostic time series`);
    const time = seriesOf(file, 'time');
    const energyN = seriesOf(file, 'energy_n');
    const energyV = seriesOf(file, 'energy_v');
    const series = {
      gamma_n: seriesOf(file, 'gamma_n'),
      gamma_c: seriesOf(file, 'gamma_c'),
      energy: energyN.map((v, i) => v + energyV[i]!),
      enstrophy: seriesOf(file, 'enstrophy'),
    };
    const selected = Array.from(time.keys()).filter((i) => time[i]! >= from);
    if (selected.length === 0)
      throw new InvalidConfigError(
        `${path} has no samples at t >= ${from} (it ends at t = ${time.at(-1) ?? 0}): lower --from`,
      );
    const mean = (v: Float64Array) => selected.reduce((s, i) => s + v[i]!, 0) / selected.length;
    const averages = {
      gamma_n: mean(series.gamma_n),
      gamma_c: mean(series.gamma_c),
      energy: mean(series.energy),
      enstrophy: mean(series.enstrophy),
    };
    const grid = gridOf(config);
    let spectra: RunRecord['spectra'] = null;
    let resolvedAverages: Averages | null = null;
    let snapshots = 0;
    let lastN: RunRecord['lastN'] = null;
    if (withFields && file.paths.includes('/fields/time')) {
      const times = file.get('/fields/time').data;
      const n = file.get('/fields/n').data;
      const phi = file.get('/fields/phi').data;
      const target = reportGrid(config);
      const transforms = new Transforms2d(grid);
      const sums = Object.fromEntries(
        SPECTRUM_FIELDS.map((f) => [f, new Float64Array(target.kmaxY + 1)]),
      ) as Record<SpectrumField, Float64Array>;
      const resolved: Averages = { gamma_n: 0, gamma_c: 0, energy: 0, enstrophy: 0 };
      const onTarget = (frames: Float32Array | Float64Array, s: number) => {
        const spec = transforms.newSpectral();
        transforms.forward(
          Float64Array.from(frames.subarray(s * grid.realSize, (s + 1) * grid.realSize)),
          spec,
        );
        return coarsenSpectrum(spec, grid, target);
      };
      for (let s = 0; s < times.length; s++) {
        if (times[s]! < from) continue;
        const nHat = onTarget(n, s);
        const phiHat = onTarget(phi, s);
        const add = (field: SpectrumField, spectrum: Float64Array) =>
          spectrum.forEach((v, k) => (sums[field][k] = sums[field][k]! + v));
        add(
          'n',
          kySpectrum(nHat, target, () => 1),
        );
        add(
          'phi',
          kySpectrum(phiHat, target, () => 1),
        );
        add(
          'kinetic',
          kySpectrum(phiHat, target, (k2) => k2),
        );
        const omegaHat = phiHat.map((v, j) => -target.k2[j >> 1]! * v);
        const { scalars } = diagnose(config.model, target, [nHat, omegaHat], phiHat);
        resolved.gamma_n += scalars.gamma_n!;
        resolved.gamma_c += scalars.gamma_c!;
        resolved.energy += scalars.energy_n! + scalars.energy_v!;
        resolved.enstrophy += scalars.enstrophy!;
        snapshots++;
      }
      if (snapshots > 0) {
        for (const f of SPECTRUM_FIELDS) sums[f] = sums[f].map((v) => v / snapshots);
        spectra = sums;
        resolvedAverages = Object.fromEntries(
          AVERAGED.map((q) => [q, resolved[q] / snapshots]),
        ) as Averages;
      }
      const last = times.length - 1;
      lastN = {
        data: n.subarray(last * grid.realSize, (last + 1) * grid.realSize),
        ny: grid.ny,
        nx: grid.nx,
      };
    }
    const wall = file.attrs.wall_seconds;
    return {
      label,
      file: path,
      config,
      device: String(file.attrs.device ?? 'unknown'),
      wallSeconds: typeof wall === 'number' ? wall : null,
      time,
      series,
      averages,
      resolvedAverages,
      samples: selected.length,
      snapshots,
      lastN,
      spectra,
    };
  } finally {
    file.close();
  }
}

/** The report grid: the 2/3-de-aliased modes of the coarsest run, checked for a common box. */
export function commonReportGrid(configs: SimulationConfig[]): SpectralGrid {
  const coarsest = configs.reduce((a, b) => (b.nx * b.ny < a.nx * a.ny ? b : a));
  for (const c of configs)
    if (Math.abs(c.lx - coarsest.lx) > 1e-9 * c.lx || Math.abs(c.ly - coarsest.ly) > 1e-9 * c.ly)
      throw new InvalidConfigError(
        `the runs do not share one box (${c.lx}x${c.ly} vs ${coarsest.lx}x${coarsest.ly}): compare runs of the same k0`,
      );
  return new SpectralGrid({
    nx: coarsest.nx,
    ny: coarsest.ny,
    lx: coarsest.lx,
    ly: coarsest.ly,
    dealias: '2/3',
  });
}

export interface Comparison {
  /** run / DNS − 1 for each time average. */
  relative: Averages;
  /** The same for the averages of the resolved modes of both (snapshots), null without snapshots. */
  relativeResolved: Averages | null;
  /** Largest factor max(r, 1/r), r = run / DNS, over ky index 1..kmax, per spectrum (null: no snapshots). */
  spectrumFactor: Record<SpectrumField, number | null>;
  /** DNS wall seconds / run wall seconds to the same end time (null: unknown or other end time). */
  speedup: number | null;
}

/** run / reference − 1 for each average. */
function relativeTo(run: Averages, reference: Averages): Averages {
  return Object.fromEntries(AVERAGED.map((q) => [q, run[q] / reference[q] - 1])) as Averages;
}

export function compareWithDns(run: RunRecord, dns: RunRecord): Comparison {
  const relative = relativeTo(run.averages, dns.averages);
  const relativeResolved =
    run.resolvedAverages && dns.resolvedAverages
      ? relativeTo(run.resolvedAverages, dns.resolvedAverages)
      : null;
  const spectrumFactor = Object.fromEntries(
    SPECTRUM_FIELDS.map((f) => {
      if (!run.spectra || !dns.spectra) return [f, null];
      let worst = 1;
      for (let k = 1; k < run.spectra[f].length; k++) {
        const r = run.spectra[f][k]! / dns.spectra[f][k]!;
        worst = Math.max(worst, r, 1 / r);
      }
      return [f, worst];
    }),
  ) as Comparison['spectrumFactor'];
  const sameEnd = Math.abs(run.config.tEnd - dns.config.tEnd) < 1e-9 * dns.config.tEnd;
  const speedup =
    sameEnd && run.wallSeconds && dns.wallSeconds ? dns.wallSeconds / run.wallSeconds : null;
  return { relative, relativeResolved, spectrumFactor, speedup };
}

/** A relative difference as a signed percentage, e.g. +5.3%. */
export function signedPercent(v: number, digits = 1): string {
  return `${v >= 0 ? '+' : ''}${(100 * v).toFixed(digits)}%`;
}

/** A normalised histogram (density) of the samples at t >= from on shared bin edges. */
export function histogram(values: number[], edges: number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  const lo = edges[0]!;
  const width = (edges.at(-1)! - lo) / (edges.length - 1);
  for (const v of values) {
    const b = Math.min(edges.length - 2, Math.floor((v - lo) / width));
    if (b >= 0) counts[b]!++;
  }
  return counts.map((c) => c / (values.length * width));
}
