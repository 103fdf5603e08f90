/**
 * `closure report`: the EHW-C evaluation page. Reads a DNS run and coarse runs (EHW-C, bare, tuned
 * hyper-viscosity, ...), computes the comparison (reportStats.ts) and writes report.json, PNG + SVG
 * plots (ky-spectra of n, φ and kinetic energy; time series and PDFs of Γn and Γc; the last n of each
 * run) and an index.html with the table of time averages, spectrum factors, wall-clock and the
 * issue's acceptance targets (Γn, Γc, E, U within 10%, ky-spectra within a factor 1.5).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { coarseGridOf } from './coarsen.ts';
import { writeFieldPng } from '../plots/png.ts';
import { writePlot } from '../plots/render.ts';
import { linePlotSvg, type Series } from '../plots/svg.ts';
import { gridOf, InvalidConfigError } from '../solvers/config.ts';
import {
  AVERAGED,
  commonReportGrid,
  compareWithDns,
  histogram,
  readRunRecord,
  type RunRecord,
  signedPercent,
  SPECTRUM_FIELDS,
} from './reportStats.ts';

export const REPORT_TARGETS = { averagesWithin: 0.1, spectrumFactor: 1.5 };

export interface ReportOptions {
  dns: string;
  runs: string[];
  labels?: string[];
  from: number;
  out: string;
}

const SYMBOL: Record<string, string> = {
  gamma_n: 'Γn',
  gamma_c: 'Γc',
  energy: 'E',
  enstrophy: 'U',
  n: 'n',
  phi: 'φ',
  kinetic: 'kinetic energy',
};

function fileLabel(label: string): string {
  return label.replace(/[^A-Za-z0-9_.-]/g, '_');
}

async function readAll(o: ReportOptions): Promise<{ dns: RunRecord; runs: RunRecord[] }> {
  if (o.runs.length === 0) throw new InvalidConfigError('--runs needs at least one run file');
  if (o.labels && o.labels.length !== o.runs.length)
    throw new InvalidConfigError(
      `--labels has ${o.labels.length} names for ${o.runs.length} runs: give one per run`,
    );
  // First pass for the configs (cheap: time series only), then the spectra on the common grid.
  const configs = await Promise.all(
    [o.dns, ...o.runs].map((f) => readRunRecord('', f, -Infinity, (c) => gridOf(c), false)),
  );
  const grid = commonReportGrid(configs.map((r) => r.config));
  const dnsGrid = gridOf(configs[0]!.config);
  const factor = dnsGrid.nx / grid.nx;
  if (factor > 1) coarseGridOf(dnsGrid, factor); // validates the factor (power of two)
  const onGrid = () => grid;
  const dns = await readRunRecord('DNS (filtered)', o.dns, o.from, onGrid);
  const runs: RunRecord[] = [];
  for (const [i, file] of o.runs.entries())
    runs.push(await readRunRecord(o.labels?.[i] ?? basename(file, '.h5'), file, o.from, onGrid));
  return { dns, runs };
}

export async function writeClosureReport(o: ReportOptions) {
  const { dns, runs } = await readAll(o);
  await mkdir(o.out, { recursive: true });
  const all = [dns, ...runs];
  // The DNS is the reference line: black; the runs take the palette.
  const colorOf = (r: RunRecord) => (r === dns ? '#000000' : undefined);
  const rows = runs.map((run) => {
    const comparison = compareWithDns(run, dns);
    const averagesOk = AVERAGED.every(
      (q) => Math.abs(comparison.relative[q]) <= REPORT_TARGETS.averagesWithin,
    );
    const spectraOk = SPECTRUM_FIELDS.every(
      (f) => (comparison.spectrumFactor[f] ?? Infinity) <= REPORT_TARGETS.spectrumFactor,
    );
    return { run, comparison, targetsMet: { averages: averagesOk, spectra: spectraOk } };
  });
  const plots: string[] = [];
  const plot = async (
    name: string,
    series: Series[],
    title: string,
    x: string,
    y: string,
    log: boolean,
  ) => {
    await writePlot(
      join(o.out, name),
      linePlotSvg(series, { title, xLabel: x, yLabel: y, logX: log, logY: log }),
    );
    plots.push(name);
  };
  const dky = (2 * Math.PI) / dns.config.ly;
  for (const f of SPECTRUM_FIELDS) {
    const series = all.flatMap((r) =>
      r.spectra
        ? [
            {
              label: r.label,
              color: colorOf(r),
              x: r.spectra[f].map((_, k) => k * dky).slice(1),
              y: r.spectra[f].slice(1),
            },
          ]
        : [],
    );
    await plot(
      `spectrum_ky_${f}`,
      series,
      `ky-spectrum of ${SYMBOL[f]}, t >= ${o.from}`,
      'ky',
      'sum over kx',
      true,
    );
  }
  for (const q of ['gamma_n', 'gamma_c'] as const) {
    await plot(
      `timeseries_${q}`,
      all.map((r) => ({ label: r.label, color: colorOf(r), x: r.time, y: r.series[q] })),
      `${SYMBOL[q]}(t)`,
      't',
      SYMBOL[q]!,
      false,
    );
    const samples = all.map((r) => Array.from(r.series[q]).filter((_, i) => r.time[i]! >= o.from));
    const lo = Math.min(...samples.map((s) => Math.min(...s)));
    const hi = Math.max(...samples.map((s) => Math.max(...s)));
    const edges = Array.from({ length: 41 }, (_, i) => lo + ((hi - lo) * i) / 40);
    const centres = edges.slice(0, -1).map((e, i) => 0.5 * (e + edges[i + 1]!));
    await plot(
      `pdf_${q}`,
      all.map((r, i) => ({
        label: r.label,
        color: colorOf(r),
        x: centres,
        y: histogram(samples[i]!, edges),
      })),
      `PDF of ${SYMBOL[q]}, t >= ${o.from}`,
      SYMBOL[q]!,
      'density',
      false,
    );
  }
  const images: string[] = [];
  for (const r of all)
    if (r.lastN) {
      const name = `n_${fileLabel(r.label)}.png`;
      await writeFieldPng(
        join(o.out, name),
        r.lastN.data,
        r.lastN.ny,
        r.lastN.nx,
        r.lastN.nx <= 128 ? 4 : 1,
      );
      images.push(name);
    }
  const summary = {
    from: o.from,
    targets: REPORT_TARGETS,
    dns: describe(dns),
    runs: rows.map(({ run, comparison, targetsMet }) => ({
      ...describe(run),
      vsDns: comparison,
      targetsMet,
    })),
    plots: plots.flatMap((p) => [`${p}.png`, `${p}.svg`]),
    images,
  };
  await writeFile(join(o.out, 'report.json'), `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(join(o.out, 'index.html'), html(summary, plots, images));
  return summary;
}

function describe(r: RunRecord) {
  return {
    label: r.label,
    file: r.file,
    grid: [r.config.nx, r.config.ny],
    dt: r.config.dt,
    tEnd: r.config.tEnd,
    device: r.device,
    wallSeconds: r.wallSeconds,
    samples: r.samples,
    snapshots: r.snapshots,
    averages: r.averages,
    resolvedAverages: r.resolvedAverages,
    closure: r.config.model.kind === 'hw' ? (r.config.model.closure ?? null) : null,
    spectra: r.spectra
      ? Object.fromEntries(SPECTRUM_FIELDS.map((f) => [f, Array.from(r.spectra![f])]))
      : null,
  };
}

type Summary = Awaited<ReturnType<typeof writeClosureReport>>;

function html(s: Summary, plots: string[], images: string[]): string {
  const num = (v: number | null | undefined, digits = 4) =>
    v == null ? '–' : v.toPrecision(digits);
  const head = [
    'run',
    'grid',
    'dt',
    ...AVERAGED.map((q) => SYMBOL[q]),
    ...SPECTRUM_FIELDS.map((f) => `spectrum factor ${SYMBOL[f]}`),
    'wall s',
    'speed-up',
    'targets',
    'resolved modes: Γn, Γc, E, U vs DNS',
  ];
  const dnsRow = [
    s.dns.label,
    s.dns.grid.join('²').replace(/²\d+$/, '²'),
    s.dns.dt,
    ...AVERAGED.map((q) => num(s.dns.averages[q])),
    '',
    '',
    '',
    num(s.dns.wallSeconds, 3),
    '1',
    '',
    s.dns.resolvedAverages ? AVERAGED.map((q) => num(s.dns.resolvedAverages![q])).join(', ') : '–',
  ];
  const runRows = s.runs.map((r) => [
    r.label,
    r.grid.join('²').replace(/²\d+$/, '²'),
    r.dt,
    ...AVERAGED.map((q) => `${num(r.averages[q])} (${signedPercent(r.vsDns.relative[q])})`),
    ...SPECTRUM_FIELDS.map((f) => num(r.vsDns.spectrumFactor[f], 3)),
    num(r.wallSeconds, 3),
    r.vsDns.speedup == null ? '–' : `${r.vsDns.speedup.toFixed(1)}x`,
    `averages ${r.targetsMet.averages ? 'met' : 'missed'}, spectra ${r.targetsMet.spectra ? 'met' : 'missed'}`,
    r.vsDns.relativeResolved
      ? AVERAGED.map((q) => signedPercent(r.vsDns.relativeResolved![q])).join(', ')
      : '–',
  ]);
  const cell = (tag: string) => (v: unknown) =>
    `<${tag} style="border:1px solid #ccc;padding:3px 6px">${String(v)}</${tag}>`;
  return [
    '<!doctype html><meta charset="utf-8"><title>EHW-C report</title><body style="font-family:sans-serif">',
    `<h2>EHW-C report: ${s.runs.map((r) => r.label).join(', ')} vs DNS</h2>`,
    `<p>Time averages over t ≥ ${s.from}; relative to the DNS in brackets. Spectrum factor: the largest max(r, 1/r), r = run / filtered DNS, over ky index 1..kmax of the coarse grid. Targets: averages within ${100 * s.targets.averagesWithin}%, spectra within a factor ${s.targets.spectrumFactor}. Resolved modes: the averages over the snapshots of the modes the coarse grid keeps (the DNS filtered to them), which leave out the DNS's sub-grid part; the targets use the DNS's own averages. Wall-clock: seconds to the run's end time on its device (${s.dns.device} for the DNS); speed-up only for runs to the same end time.</p>`,
    '<table style="border-collapse:collapse">',
    `<tr>${head.map(cell('th')).join('')}</tr>`,
    `<tr>${dnsRow.map(cell('td')).join('')}</tr>`,
    ...runRows.map((r) => `<tr>${r.map(cell('td')).join('')}</tr>`),
    '</table>',
    ...plots.map((p) => `<div style="display:inline-block"><img src="${p}.svg"></div>`),
    '<h3>n at the last snapshot</h3>',
    ...images.map(
      (i) =>
        `<figure style="display:inline-block"><img src="${i}" width="256"><figcaption>${i}</figcaption></figure>`,
    ),
    '</body>',
  ].join('\n');
}
