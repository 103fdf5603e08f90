/** Test grids: the HW box of hw2d's reference case (k0 = 0.15) at a given resolution. */
import { type SimulationConfig, gridOf } from '../../src/solvers/config.ts';
import type { SpectralGrid } from '../../src/spectral/grid.ts';

export function hwBoxGrid(
  n: number,
  scheme: SimulationConfig['scheme'] = 'spectral',
): SpectralGrid {
  const box = (2 * Math.PI) / 0.15;
  return gridOf({ nx: n, ny: n, lx: box, ly: box, scheme } as SimulationConfig);
}
