/**
 * Writes a line plot both as SVG (sharp in a browser, embedded in the HTML pages) and as PNG
 * (rasterised with resvg, for papers, chats and image viewers). Text uses the system fonts; on a
 * machine without fonts the PNG still renders, without labels.
 */
import { writeFile } from 'node:fs/promises';
import { Resvg } from '@resvg/resvg-js';

/** Writes `<base>.svg` and `<base>.png`; returns both paths. */
export async function writePlot(base: string, svg: string): Promise<string[]> {
  const png = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: 'white',
    fitTo: { mode: 'zoom', value: 1.5 },
  })
    .render()
    .asPng();
  await writeFile(`${base}.svg`, svg);
  await writeFile(`${base}.png`, png);
  return [`${base}.svg`, `${base}.png`];
}
