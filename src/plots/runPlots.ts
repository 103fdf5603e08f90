/**
 * Plots of a solver output file: the last snapshot of every field as PNG, ky and shell spectra
 * (averaged over the snapshots of the second half of the run) and the diagnostic time series as
 * SVG + PNG, and an index.html showing them together.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readH5 } from '../io/hdf5.ts';
import { writeFieldPng } from './png.ts';
import { writePlot } from './render.ts';
import { linePlotSvg, type Series } from './svg.ts';

function averageFrames(
  data: ArrayLike<number>,
  frames: number,
  length: number,
  from: number,
): Float64Array {
  const out = new Float64Array(length);
  for (let f = from; f < frames; f++)
    for (let i = 0; i < length; i++) out[i] = out[i]! + data[f * length + i]! / (frames - from);
  return out;
}

export async function plotRun(file: string, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const run = await readH5(file);
  const written: string[] = [];
  try {
    const hw = run.paths.includes('/fields/n');
    const fieldNames = hw ? ['n', 'phi', 'omega'] : ['omega', 'psi'];
    const times = run.paths.includes('/fields/time')
      ? Array.from(run.get('/fields/time').data)
      : [];
    if (times.length === 0)
      throw new Error(`${file} has no snapshots to plot: run with --save-every > 0`);
    const last = times.length - 1;
    for (const name of fieldNames) {
      const field = run.get(`/fields/${name}`);
      const [, ny, nx] = field.shape as [number, number, number];
      const frame = field.data.subarray(last * ny * nx, (last + 1) * ny * nx);
      const path = join(outDir, `${name}.png`);
      await writeFieldPng(path, frame, ny, nx, nx <= 256 ? 2 : 1);
      written.push(path);
    }
    const from = Math.floor(times.length / 2);
    const spectra = (kind: 'ky' | 'shell', axisPath: string, names: string[]) => {
      const axis = run.get(axisPath).data;
      return names.map((name): Series => {
        const data = run.get(`/spectra/${kind}_${name}`).data;
        return { label: name, x: axis, y: averageFrames(data, times.length, axis.length, from) };
      });
    };
    const names = hw ? ['energy_n', 'energy_v'] : ['energy', 'enstrophy'];
    const window = `t = ${times[from]!.toFixed(1)}..${times[last]!.toFixed(1)}`;
    const shell = spectra('shell', '/spectra/k', names);
    const ref = shell[0]!;
    // A k^-3 guide through the first series at a quarter of the k range.
    const k = Array.from(ref.x).filter((v) => v > 0);
    const anchor = k[Math.floor(k.length / 4)]!;
    const anchorValue = ref.y[Array.from(ref.x).indexOf(anchor)]!;
    shell.push({
      label: 'k^-3',
      x: k,
      y: k.map((v) => anchorValue * (v / anchor) ** -3),
      color: '#777',
      dashed: true,
    });
    const svgs: [string, string][] = [
      [
        'spectrum_ky',
        linePlotSvg(spectra('ky', '/spectra/ky', names), {
          title: `ky spectra (sum over kx), ${window}`,
          xLabel: 'ky',
          yLabel: 'spectral density',
          logX: true,
          logY: true,
        }),
      ],
      [
        'spectrum_k',
        linePlotSvg(shell, {
          title: `shell spectra, ${window}`,
          xLabel: '|k|',
          yLabel: 'spectral density',
          logX: true,
          logY: true,
        }),
      ],
    ];
    const t = run.get('/timeseries/time').data;
    const seriesNames = hw
      ? ['gamma_n', 'gamma_c', 'energy_n', 'energy_v']
      : ['energy', 'enstrophy'];
    svgs.push([
      'timeseries',
      linePlotSvg(
        seriesNames.map((name) => ({ label: name, x: t, y: run.get(`/timeseries/${name}`).data })),
        { title: 'diagnostics', xLabel: 't', yLabel: 'value', logY: !hw },
      ),
    ]);
    for (const [name, svg] of svgs) written.push(...(await writePlot(join(outDir, name), svg)));
    const html = [
      `<!doctype html><meta charset="utf-8"><title>${file}</title><body style="font-family:sans-serif">`,
      `<h2>${file}</h2><p>fields at t = ${times[last]!.toFixed(2)} (blue negative, red positive, symmetric scale)</p>`,
      ...fieldNames.map(
        (n) =>
          `<figure style="display:inline-block"><img src="${n}.png" width="320"><figcaption>${n}</figcaption></figure>`,
      ),
      ...svgs.map(([n]) => `<div><img src="${n}.svg"></div>`),
      '</body>',
    ].join('\n');
    const index = join(outDir, 'index.html');
    await writeFile(index, html);
    written.push(index);
  } finally {
    run.close();
  }
  return written;
}
