/**
 * Field images: a 2-D array mapped through a diverging blue-white-red colour map, symmetric about
 * zero (so the sign of n, φ, Ω reads at a glance), written as PNG with row 0 (y = 0) at the bottom.
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
  let limit = 0;
  for (let i = 0; i < data.length; i++) limit = Math.max(limit, Math.abs(data[i]!));
  const png = new PNG({ width: nx * scale, height: ny * scale });
  for (let py = 0; py < ny * scale; py++) {
    const y = ny - 1 - Math.floor(py / scale);
    for (let px = 0; px < nx * scale; px++) {
      const v = data[y * nx + Math.floor(px / scale)]!;
      const [r, g, b] = diverging(limit > 0 ? v / limit : 0);
      const o = 4 * (py * nx * scale + px);
      png.data[o] = r;
      png.data[o + 1] = g;
      png.data[o + 2] = b;
      png.data[o + 3] = 255;
    }
  }
  await writeFileAtomic(path, PNG.sync.write(png));
  return { limit };
}
