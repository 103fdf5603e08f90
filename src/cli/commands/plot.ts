/** `driftflow plot --run FILE --out DIR`: PNG fields, SVG spectra and time series, index.html. */
import type { Command } from 'commander';
import { z } from 'zod';
import { plotRun } from '../../plots/runPlots.ts';
import { parseOptions } from '../options.ts';

const PlotOptions = z.object({ run: z.string(), out: z.string() });

export function register(program: Command): void {
  program
    .command('plot')
    .description(
      'plot a solver output file (fields as PNG, spectra and time series as SVG, index.html)',
    )
    .requiredOption('--run <file>', 'HDF5 file written by hw run / ns run')
    .requiredOption('--out <dir>', 'output folder')
    .action(async (raw) => {
      const options = parseOptions(PlotOptions, raw);
      for (const path of await plotRun(options.run, options.out)) console.log(`wrote ${path}`);
    });
}
