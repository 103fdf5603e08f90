/**
 * Line plots as self-contained SVG (axes, ticks, labels, legend; log or linear axes): spectra and
 * time series of a run, viewable in any browser and embedded in the run's HTML page.
 */
export interface Series {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
  dashed?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

function niceTicks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const ticks: number[] = [];
    // Decades, plus 2 and 5 times them when the axis spans less than two decades.
    const mantissas = hi / lo < 100 ? [1, 2, 5] : [1];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
      for (const m of mantissas) ticks.push(Number((m * 10 ** e).toPrecision(6)));
    return ticks.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  }
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 4 || 1));
  const unit = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= 6) ?? step * 10;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / unit) * unit; t <= hi + 1e-12; t += unit)
    ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

const trimNumber = (t: number) =>
  t
    .toPrecision(3)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function linePlotSvg(series: Series[], o: PlotOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 420;
  const m = { left: 70, right: 20, top: 36, bottom: 50 };
  const usable = (v: number, log?: boolean) => Number.isFinite(v) && (!log || v > 0);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series)
    for (let i = 0; i < s.x.length; i++)
      if (usable(s.x[i]!, o.logX) && usable(s.y[i]!, o.logY)) {
        xs.push(s.x[i]!);
        ys.push(s.y[i]!);
      }
  const range = (v: number[], log?: boolean) => {
    let lo = Math.min(...v);
    let hi = Math.max(...v);
    if (log) lo = Math.max(lo, hi * 1e-12);
    if (lo === hi) [lo, hi] = log ? [lo / 10, hi * 10] : [lo - 1, hi + 1];
    return [lo, hi] as const;
  };
  const [x0, x1] = xs.length ? range(xs, o.logX) : [0, 1];
  const [y0, y1] = ys.length ? range(ys, o.logY) : [0, 1];
  const tx = (v: number) =>
    o.logX ? Math.log10(v / x0) / Math.log10(x1 / x0) : (v - x0) / (x1 - x0);
  const ty = (v: number) =>
    o.logY ? Math.log10(v / y0) / Math.log10(y1 / y0) : (v - y0) / (y1 - y0);
  const px = (v: number) => m.left + tx(v) * (width - m.left - m.right);
  const py = (v: number) => height - m.bottom - ty(v) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escape(o.title)}</text>`,
  ];
  for (const t of niceTicks(x0, x1, Boolean(o.logX)))
    parts.push(
      `<line x1="${px(t)}" x2="${px(t)}" y1="${m.top}" y2="${height - m.bottom}" stroke="#ddd"/>`,
      `<text x="${px(t)}" y="${height - m.bottom + 16}" text-anchor="middle">${trimNumber(t)}</text>`,
    );
  for (const t of niceTicks(y0, y1, Boolean(o.logY)))
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end">${o.logY ? t.toExponential(0) : trimNumber(t)}</text>`,
    );
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="black"/>`,
    `<text x="${width / 2}" y="${height - 12}" text-anchor="middle">${escape(o.xLabel)}</text>`,
    `<text transform="translate(16 ${height / 2}) rotate(-90)" text-anchor="middle">${escape(o.yLabel)}</text>`,
  );
  // Legend box wide enough for the longest label (about 7 px per character at 12 px).
  const legendX =
    width - m.right - Math.max(150, 35 + 7 * Math.max(...series.map((s) => s.label.length)));
  series.forEach((s, k) => {
    const color = s.color ?? COLORS[k % COLORS.length]!;
    const points: string[] = [];
    for (let i = 0; i < s.x.length; i++)
      if (usable(s.x[i]!, o.logX) && usable(s.y[i]!, o.logY) && s.y[i]! >= y0)
        points.push(`${px(s.x[i]!).toFixed(1)},${py(s.y[i]!).toFixed(1)}`);
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 4"' : ''} points="${points.join(' ')}"/>`,
      `<line x1="${legendX}" x2="${legendX + 25}" y1="${m.top + 14 + 16 * k}" y2="${m.top + 14 + 16 * k}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`,
      `<text x="${legendX + 30}" y="${m.top + 18 + 16 * k}">${escape(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
