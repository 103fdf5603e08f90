/**
 * Field images: a 2-D array mapped through a diverging blue-white-red colour map, symmetric about
 * zero (so the sign of n, φ, Ω reads at a glance), written as PNG with row 0 (y = 0) at the bottom;
 * one field or a gallery of several on one scale.
 */
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../io/atomic.ts';

function diverging(t: number): [number, number, number] {
  // t in [-1, 1]: blue (-1) → white (0) → red (1).
  const a = Math.min(1, Math.abs(t));
  const fade = Math.round(255 * (1 - a));
  return t < 0
    ? [fade, fade + Math.round(a * 60), 255 - Math.round(a * 80)]
    : [255 - Math.round(a * 80), fade, fade];
}

export async function writeFieldPng(
  path: string,
  data: ArrayLike<number>,
  ny: number,
  nx: number,
  scale = 2,
): Promise<{ limit: number }> {
  return writeFieldGridPng(path, [[data]], ny, nx, scale);
}

/**
 * Several fields of one size as a grid of images (rows of columns) on one colour scale, with a
 * white gap between them: galleries of samples next to reference fields. The scale is ±`limit`
 * (values beyond it saturate), by default the largest |value| of all fields.
 */
export async function writeFieldGridPng(
  path: string,
  rows: ArrayLike<number>[][],
  ny: number,
  nx: number,
  scale = 2,
  gap = 4,
  limit = 0,
): Promise<{ limit: number }> {
  if (!(limit > 0))
    for (const row of rows)
      for (const data of row)
        for (let i = 0; i < data.length; i++) limit = Math.max(limit, Math.abs(data[i]!));
  const columns = Math.max(...rows.map((r) => r.length));
  const cellW = nx * scale;
  const cellH = ny * scale;
  const width = columns * cellW + (columns - 1) * gap;
  const height = rows.length * cellH + (rows.length - 1) * gap;
  const png = new PNG({ width, height });
  png.data.fill(255);
  rows.forEach((row, ri) =>
    row.forEach((data, ci) => {
      const left = ci * (cellW + gap);
      const top = ri * (cellH + gap);
      for (let py = 0; py < cellH; py++) {
        const y = ny - 1 - Math.floor(py / scale);
        for (let px = 0; px < cellW; px++) {
          const v = data[y * nx + Math.floor(px / scale)]!;
          const [r, g, b] = diverging(limit > 0 ? v / limit : 0);
          const o = 4 * ((top + py) * width + left + px);
          png.data[o] = r;
          png.data[o + 1] = g;
          png.data[o + 2] = b;
          png.data[o + 3] = 255;
        }
      }
    }),
  );
  await writeFileAtomic(path, PNG.sync.write(png));
  return { limit };
}
