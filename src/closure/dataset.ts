/**
 * Reads coarse-grained data written by `closure prepare` back into spectral samples for fitting:
 * the coarse grid from the file's attributes, each snapshot's n̄, Ω̄, φ̄ and τ as half spectra.
 */
import { readH5 } from '../io/hdf5.ts';
import { InvalidConfigError, type SimulationConfig } from '../solvers/config.ts';
import { SpectralGrid } from '../spectral/grid.ts';
import { Transforms2d } from '../spectral/transforms2d.ts';
import type { FitSample } from './fit.ts';

export interface CoarseData {
  grid: SpectralGrid;
  dnsConfig: SimulationConfig;
  samples: FitSample[];
}

export async function readCoarseData(path: string): Promise<CoarseData> {
  const file = await readH5(path).catch((error: Error) => {
    throw new InvalidConfigError(`cannot read coarse data ${path}: ${error.message}`);
  });
  try {
    const { nx, ny, lx, ly, dns_config_json: json } = file.attrs;
    if (typeof json !== 'string' || !file.paths.includes('/subgrid/n'))
      throw new InvalidConfigError(`${path} was not written by \`driftflow closure prepare\``);
    const grid = new SpectralGrid({
      nx: Number(nx),
      ny: Number(ny),
      lx: Number(lx),
      ly: Number(ly),
      dealias: '2/3',
    });
    const transforms = new Transforms2d(grid);
    const frames = (name: string) => file.get(name).data;
    const data = Object.fromEntries(
      ['/coarse/n', '/coarse/omega', '/coarse/phi', '/subgrid/n', '/subgrid/omega'].map((p) => [
        p,
        frames(p),
      ]),
    );
    const count = file.get('/time').data.length;
    const spectral = (name: string, s: number) => {
      const spec = transforms.newSpectral();
      const all = data[name]!;
      transforms.forward(
        Float64Array.from(all.subarray(s * grid.realSize, (s + 1) * grid.realSize)),
        spec,
      );
      return spec;
    };
    const samples = Array.from({ length: count }, (_, s) => ({
      n: spectral('/coarse/n', s),
      omega: spectral('/coarse/omega', s),
      phi: spectral('/coarse/phi', s),
      subgrid: { n: spectral('/subgrid/n', s), omega: spectral('/subgrid/omega', s) },
    }));
    return { grid, dnsConfig: JSON.parse(json) as SimulationConfig, samples };
  } finally {
    file.close();
  }
}
