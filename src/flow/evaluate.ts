/**
 * `driftflow flow eval`: generated fields against held-out DNS fields of the same resolution, for
 * one or several sample files side by side (FOT-CFM and its baselines). Per channel: the isotropic
 * shell spectrum of the field (for vorticity, the enstrophy spectrum) and the kinetic-energy
 * spectrum it implies (|w_k|²/|k|²), the one-point statistics (mean, std, skewness, kurtosis) and
 * the structure functions S_2..S_6 with the flatness (structureFunctions.ts); for each sample file
 * their relative errors against the DNS, with the sampler's method, NFE and path straightness read
 * from the samples file. When the dataset holds both splits at the samples' size, the other split
 * is scored against the reference the same way (`splitFloor`): the error of a model that reproduced
 * its training fields exactly, i.e. how far the finite DNS record is from its own stationary
 * statistics. Writes eval.json, plots and a gallery (evaluatePlots.ts) and index.html.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.ts';
import { readH5 } from '../io/hdf5.ts';
import { writeEvaluationPlots } from './evaluatePlots.ts';
import { type StructureFunctions, structureFunctions } from './structureFunctions.ts';
import { channelOf, shellOf, unitSquareTransforms } from './unitSquare.ts';

export interface FieldStats {
  mean: number;
  std: number;
  skewness: number;
  kurtosis: number;
}

/** What one set of fields (samples or reference) measures on one channel. */
export interface ChannelMeasures {
  channel: number;
  name: string;
  /** Mean power per integer wavenumber shell (index = shell). */
  spectrum: number[];
  energy: number[];
  stats: FieldStats;
  structure: StructureFunctions;
}

/** A sample file's channel against the reference: relative errors (max over shells / r). */
export interface ChannelErrors {
  spectrum: number[];
  maxSpectrumError: number;
  maxEnergyError: number;
  kurtosisError: number;
  /** Max over r of |S_p / S_p,DNS − 1| for p = 2..6 (keyed by order). */
  maxStructureError: Record<number, number>;
  maxFlatnessError: number;
}

export interface RunReport {
  label: string;
  file: string;
  count: number;
  method: string;
  nfe: number;
  /** Fixed-step samplers: the time grid (null when the file predates the option or has none). */
  timeGrid: string | null;
  /** Path straightness of the sampler (0 = straight), when the samples file records it. */
  straightness: number | null;
  channels: (ChannelMeasures & { errors: ChannelErrors })[];
}

/** The DNS's other split scored against the reference split (absent when one split is missing). */
export interface SplitFloor {
  split: 'test' | 'train';
  count: number;
  channels: ChannelErrors[];
}

export interface EvaluationReport {
  data: string;
  split: 'test' | 'train';
  size: number;
  refCount: number;
  maxShell: number;
  reference: ChannelMeasures[];
  /** The other DNS split against the reference: the error floor the finite record sets. */
  splitFloor: SplitFloor | null;
  runs: RunReport[];
}

/** Shell spectra (field power and implied energy) averaged over `count` fields [count, n, n, C]. */
export function shellSpectra(
  fields: ArrayLike<number>,
  count: number,
  n: number,
  C: number,
  c: number,
) {
  const t = unitSquareTransforms(n);
  const grid = t.grid;
  const shells = Math.floor(n / 2);
  const power = new Float64Array(shells + 1);
  const energy = new Float64Array(shells + 1);
  const real = t.newReal();
  const spec = t.newSpectral();
  for (let s = 0; s < count; s++) {
    t.forward(channelOf(fields, s, n, C, c, real), spec);
    for (let i = 0; i < grid.spectralSize; i++) {
      const k2 = grid.k2[i]!;
      const shell = shellOf(k2);
      if (k2 === 0 || shell > shells) continue;
      const p = (grid.weight[i]! * (spec[2 * i]! ** 2 + spec[2 * i + 1]! ** 2)) / count;
      power[shell]! += p;
      energy[shell]! += p / k2 / 2;
    }
  }
  return { power: [...power], energy: [...energy] };
}

export function fieldStats(fields: ArrayLike<number>, C: number, c: number): FieldStats {
  let n = 0;
  let s1 = 0;
  for (let i = c; i < fields.length; i += C) {
    s1 += fields[i]!;
    n++;
  }
  const mean = s1 / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = c; i < fields.length; i += C) {
    const d = fields[i]! - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  return { mean, std: Math.sqrt(m2), skewness: m3 / n / m2 ** 1.5, kurtosis: m4 / n / (m2 * m2) };
}

/** Everything measured on one set of fields [count, n, n, C], channel by channel. */
export function measureFields(
  data: ArrayLike<number>,
  count: number,
  n: number,
  names: string[],
): ChannelMeasures[] {
  return names.map((name, c) => {
    const s = shellSpectra(data, count, n, names.length, c);
    const kind = name === 'omega' ? 'velocity' : 'scalar';
    return {
      channel: c,
      name,
      spectrum: s.power,
      energy: s.energy,
      stats: fieldStats(data, names.length, c),
      structure: structureFunctions(data, count, n, names.length, c, kind),
    };
  });
}

const relative = (a: number, b: number) => Math.abs(a / b - 1);
const maxRelative = (a: number[], b: number[], from: number, upTo: number) =>
  Math.max(...a.slice(from, upTo + 1).map((v, k) => relative(v, b[k + from]!)));

export function compareChannel(
  s: ChannelMeasures,
  r: ChannelMeasures,
  maxShell: number,
): ChannelErrors {
  const maxStructureError: Record<number, number> = {};
  for (const p of Object.keys(r.structure.S).map(Number))
    maxStructureError[p] = maxRelative(s.structure.S[p]!, r.structure.S[p]!, 0, Infinity);
  return {
    spectrum: s.spectrum.map((v, k) => (k === 0 ? 0 : v / r.spectrum[k]! - 1)),
    maxSpectrumError: maxRelative(s.spectrum, r.spectrum, 1, maxShell),
    maxEnergyError: maxRelative(s.energy, r.energy, 1, maxShell),
    kurtosisError: relative(s.stats.kurtosis, r.stats.kurtosis),
    maxStructureError,
    maxFlatnessError: maxRelative(s.structure.flatness, r.structure.flatness, 0, Infinity),
  };
}

export async function evaluateSamples(o: {
  samples: string[];
  labels?: string[];
  data: string;
  split?: 'test' | 'train';
  maxShell?: number;
  out: string;
}): Promise<EvaluationReport> {
  if (o.labels && o.labels.length !== o.samples.length)
    throw new Error(`${o.labels.length} --labels for ${o.samples.length} --samples files`);
  const runs = [];
  for (const path of o.samples) {
    const file = await readH5(path);
    runs.push({ path, data: file.get('/samples'), attrs: file.attrs });
    file.close();
  }
  const n = runs[0]!.data.shape[1]!;
  const C = runs[0]!.data.shape[3]!;
  for (const r of runs)
    if (r.data.shape[1] !== n || r.data.shape[3] !== C)
      throw new Error(
        `${r.path} holds ${r.data.shape[1]}² fields with ${r.data.shape[3]} channels, ${o.samples[0]} ${n}² with ${C}: evaluate one resolution at a time`,
      );
  const dataFile = await readH5(o.data);
  const split = o.split ?? (dataFile.paths.includes(`/test/${n}`) ? 'test' : 'train');
  if (!dataFile.paths.includes(`/${split}/${n}`)) {
    dataFile.close();
    throw new Error(`${o.data} has no ${split} fields at ${n}² to compare the ${n}² samples with`);
  }
  const ref = dataFile.get(`/${split}/${n}`);
  const otherSplit = split === 'test' ? 'train' : 'test';
  const other = dataFile.paths.includes(`/${otherSplit}/${n}`)
    ? dataFile.get(`/${otherSplit}/${n}`)
    : null;
  const fieldNames = String(dataFile.attrs.fields ?? '').split(',');
  dataFile.close();
  const names = fieldNames.length === C ? fieldNames : Array.from({ length: C }, (_, c) => `${c}`);
  const refCount = ref.shape[0]!;
  const maxShell = Math.min(o.maxShell ?? Math.floor(n / 4), Math.floor(n / 2));
  const reference = measureFields(ref.data, refCount, n, names);
  const splitFloor: SplitFloor | null = other && {
    split: otherSplit,
    count: other.shape[0]!,
    channels: measureFields(other.data, other.shape[0]!, n, names).map((m, c) =>
      compareChannel(m, reference[c]!, maxShell),
    ),
  };
  const report: EvaluationReport = {
    data: o.data,
    split,
    size: n,
    refCount,
    maxShell,
    reference,
    splitFloor,
    runs: runs.map((r, i) => {
      const count = r.data.shape[0]!;
      const straightness = Number(r.attrs.straightness ?? NaN);
      return {
        label: o.labels?.[i] ?? basename(r.path, '.h5'),
        file: r.path,
        count,
        method: String(r.attrs.method ?? ''),
        nfe: Number(r.attrs.nfe ?? 0),
        timeGrid: r.attrs.time_grid === undefined ? null : String(r.attrs.time_grid),
        straightness: Number.isFinite(straightness) ? straightness : null,
        channels: measureFields(r.data.data, count, n, names).map((m, c) => ({
          ...m,
          errors: compareChannel(m, reference[c]!, maxShell),
        })),
      };
    }),
  };
  await mkdir(o.out, { recursive: true });
  await writeFileAtomic(join(o.out, 'eval.json'), JSON.stringify(report, null, 2));
  const samples = runs.map((r) => ({ data: r.data.data, count: r.data.shape[0]! }));
  await writeEvaluationPlots(report, { data: ref.data, count: refCount }, samples, o.out);
  return report;
}
