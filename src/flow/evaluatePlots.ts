/**
 * The pictures of `flow eval`: per channel, the shell spectra, the second-order structure function
 * and the flatness of every sample file over the held-out DNS (one plot each, PNG + SVG), a gallery
 * of the first fields of each (DNS on the top row, one row per sample file, on the DNS row's colour
 * scale, so samples far off in amplitude saturate instead of washing out the others), and
 * an index.html that shows them with the table of errors.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFieldGridPng } from '../plots/png.ts';
import { writePlot } from '../plots/render.ts';
import { linePlotSvg, type Series } from '../plots/svg.ts';
import type { ChannelErrors, EvaluationReport } from './evaluate.ts';
import { channelOf } from './unitSquare.ts';

const GALLERY_COLUMNS = 4;

interface FieldSet {
  data: ArrayLike<number>;
  count: number;
}

/** Channel c of the first fields of a set, each as its own (y, x) array. */
function firstFields(set: FieldSet, n: number, C: number, c: number): Float32Array[] {
  return Array.from({ length: Math.min(GALLERY_COLUMNS, set.count) }, (_, s) =>
    channelOf(set.data, s, n, C, c, new Float32Array(n * n)),
  );
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** A row of the error table: leading cells, then the errors (kurtosis after its value, if any). */
function row(lead: string[], e: ChannelErrors, kurtosis: string): string {
  const cells = [
    ...lead,
    pct(e.maxSpectrumError),
    `${kurtosis} (${pct(e.kurtosisError)})`.trim(),
    pct(e.maxStructureError[2]!),
    pct(e.maxFlatnessError),
  ];
  return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

export async function writeEvaluationPlots(
  report: EvaluationReport,
  reference: FieldSet,
  samples: FieldSet[],
  out: string,
): Promise<void> {
  const n = report.size;
  const C = report.reference.length;
  const sections: string[] = [];
  for (const ref of report.reference) {
    const c = ref.channel;
    const runs = report.runs.map((r) => ({ label: r.label, m: r.channels[c]! }));
    const shells = Array.from({ length: ref.spectrum.length - 1 }, (_, k) => k + 1);
    const dns = (y: number[], x: number[]): Series => ({
      label: 'held-out DNS',
      x,
      y,
      dashed: true,
    });
    await writePlot(
      join(out, `spectrum-${c}`),
      linePlotSvg(
        [
          ...runs.map((r) => ({ label: r.label, x: shells, y: r.m.spectrum.slice(1) })),
          dns(ref.spectrum.slice(1), shells),
        ],
        {
          title: `shell spectrum of ${ref.name}, ${n}²`,
          xLabel: 'k',
          yLabel: 'power',
          logX: true,
          logY: true,
        },
      ),
    );
    const r = ref.structure.rBox;
    const what =
      ref.structure.kind === 'velocity'
        ? 'longitudinal velocity increments'
        : `${ref.name} increments`;
    await writePlot(
      join(out, `structure-${c}`),
      linePlotSvg(
        [
          ...runs.map((x) => ({ label: x.label, x: r, y: x.m.structure.S[2]! })),
          dns(ref.structure.S[2]!, r),
        ],
        {
          title: `S2(r) of ${what}, ${n}²`,
          xLabel: 'r (box lengths)',
          yLabel: 'S2',
          logX: true,
          logY: true,
        },
      ),
    );
    await writePlot(
      join(out, `flatness-${c}`),
      linePlotSvg(
        [
          ...runs.map((x) => ({ label: x.label, x: r, y: x.m.structure.flatness })),
          dns(ref.structure.flatness, r),
        ],
        {
          title: `flatness S4/S2² of ${what}, ${n}²`,
          xLabel: 'r (box lengths)',
          yLabel: 'flatness',
          logX: true,
        },
      ),
    );
    const rows = [reference, ...samples].map((set) => firstFields(set, n, C, c));
    const limit = Math.max(...rows[0]!.map((f) => f.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    await writeFieldGridPng(join(out, `gallery-${c}.png`), rows, n, n, n <= 64 ? 2 : 1, 4, limit);
    const table = report.runs
      .map((run) => {
        const e = run.channels[c]!.errors;
        const s = run.channels[c]!.stats;
        return row(
          [run.label, `${run.method} ${run.nfe}`, run.straightness?.toFixed(3) ?? '-'],
          e,
          s.kurtosis.toFixed(2),
        );
      })
      .join('\n');
    const floor = report.splitFloor?.channels[c];
    const floorRow = floor
      ? '\n' +
        row([`<i>DNS ${report.splitFloor!.split} split (the floor)</i>`, '-', '-'], floor, '')
      : '';
    sections.push(`<h2>channel ${c}: ${ref.name}</h2>
<table border="1" cellpadding="4"><tr><th>samples</th><th>sampler, NFE</th><th>straightness</th><th>max spectrum error (shells 1-${report.maxShell})</th><th>kurtosis (DNS ${ref.stats.kurtosis.toFixed(2)})</th><th>max S2 error</th><th>max flatness error</th></tr>
${table}${floorRow}</table>
<p><img src="spectrum-${c}.svg"> <img src="structure-${c}.svg"> <img src="flatness-${c}.svg"></p>
<p>Gallery (top row: held-out DNS; then ${report.runs.map((x) => x.label).join(', ')}):<br><img src="gallery-${c}.png"></p>`);
  }
  await writeFile(
    join(out, 'index.html'),
    `<!doctype html><meta charset="utf-8"><title>flow eval ${n}²</title>
<h1>Generated fields vs held-out DNS (${report.split}, ${report.refCount} fields, ${n}²)</h1>
${sections.join('\n')}\n`,
  );
}
