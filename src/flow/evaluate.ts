/**
 * `driftflow flow eval`: generated fields against held-out DNS fields of the same resolution. Per
 * channel: the isotropic shell spectrum of the field (for vorticity, the enstrophy spectrum) and
 * the kinetic-energy spectrum it implies (|w_k|²/|k|²), their relative error shell by shell up to
 * `maxShell`, and the one-point statistics (mean, std, skewness, kurtosis). Writes JSON and a
 * spectrum plot (PNG + SVG). Structure functions and path straightness are not computed yet.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic.ts';
import { readH5 } from '../io/hdf5.ts';
import { writePlot } from '../plots/render.ts';
import { linePlotSvg } from '../plots/svg.ts';
import { unitSquareTransforms } from './unitSquare.ts';

export interface FieldStats {
  mean: number;
  std: number;
  skewness: number;
  kurtosis: number;
}

export interface ChannelReport {
  channel: number;
  /** Mean power per integer wavenumber shell (index = shell), samples and reference. */
  spectrum: { samples: number[]; reference: number[] };
  energy: { samples: number[]; reference: number[] };
  /** Largest relative spectrum error over shells 1..maxShell. */
  maxSpectrumError: number;
  maxEnergyError: number;
  stats: { samples: FieldStats; reference: FieldStats };
  kurtosisError: number;
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
    for (let p = 0; p < n * n; p++) real[p] = fields[(s * n * n + p) * C + c]!;
    t.forward(real, spec);
    for (let i = 0; i < grid.spectralSize; i++) {
      const k2 = grid.k2[i]!;
      const shell = Math.round(Math.sqrt(k2) / (2 * Math.PI));
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

const maxRelative = (a: number[], b: number[], upTo: number) =>
  Math.max(...Array.from({ length: upTo }, (_, k) => Math.abs(a[k + 1]! / b[k + 1]! - 1)));

export async function evaluateSamples(o: {
  samples: string;
  data: string;
  split?: 'test' | 'train';
  maxShell?: number;
  out: string;
}) {
  const samplesFile = await readH5(o.samples);
  const s = samplesFile.get('/samples');
  samplesFile.close();
  const [count, n, , C] = s.shape as [number, number, number, number];
  const dataFile = await readH5(o.data);
  const split = o.split ?? (dataFile.paths.includes(`/test/${n}`) ? 'test' : 'train');
  if (!dataFile.paths.includes(`/${split}/${n}`)) {
    dataFile.close();
    throw new Error(`${o.data} has no ${split} fields at ${n}² to compare the ${n}² samples with`);
  }
  const r = dataFile.get(`/${split}/${n}`);
  dataFile.close();
  const refCount = r.shape[0]!;
  const maxShell = Math.min(o.maxShell ?? Math.floor(n / 4), Math.floor(n / 2));
  const channels: ChannelReport[] = [];
  for (let c = 0; c < C; c++) {
    const a = shellSpectra(s.data, count, n, C, c);
    const b = shellSpectra(r.data, refCount, n, C, c);
    const stats = { samples: fieldStats(s.data, C, c), reference: fieldStats(r.data, C, c) };
    channels.push({
      channel: c,
      spectrum: { samples: a.power, reference: b.power },
      energy: { samples: a.energy, reference: b.energy },
      maxSpectrumError: maxRelative(a.power, b.power, maxShell),
      maxEnergyError: maxRelative(a.energy, b.energy, maxShell),
      stats,
      kurtosisError: Math.abs(stats.samples.kurtosis / stats.reference.kurtosis - 1),
    });
  }
  const report = {
    samples: o.samples,
    data: o.data,
    split,
    size: n,
    count,
    refCount,
    maxShell,
    channels,
  };
  await mkdir(o.out, { recursive: true });
  await writeFileAtomic(join(o.out, 'eval.json'), JSON.stringify(report, null, 2));
  for (const ch of channels) {
    const shells = Array.from({ length: ch.spectrum.samples.length - 1 }, (_, k) => k + 1);
    const svg = linePlotSvg(
      [
        { label: 'generated', x: shells, y: ch.spectrum.samples.slice(1) },
        { label: 'held-out DNS', x: shells, y: ch.spectrum.reference.slice(1), dashed: true },
      ],
      {
        title: `shell spectrum, channel ${ch.channel}, ${n}²`,
        xLabel: 'k',
        yLabel: 'power',
        logX: true,
        logY: true,
      },
    );
    await writePlot(join(o.out, `spectrum-${ch.channel}`), svg);
  }
  return report;
}
