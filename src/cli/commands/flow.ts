/**
 * `driftflow flow ...`: FOT-CFM, functional flow matching for turbulent fields.
 *   dataset  snapshots of solver runs at several resolutions with a held-out split (HDF5)
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { buildDataset } from '../../flow/dataset.ts';
import { jsonFlag, parseOptions, UsageError } from '../options.ts';
import { printJson } from '../output.ts';

const DatasetOptions = z.object({
  runs: z.array(z.string().min(1)).min(1),
  fields: z.string().default('omega'),
  sizes: z.string().default('64,128,256'),
  from: z.coerce.number().nonnegative().default(0),
  every: z.coerce.number().int().positive().default(1),
  heldOut: z.coerce.number().min(0).lt(1).default(0.1),
  out: z.string().min(1),
  json: jsonFlag,
});

export function register(program: Command): void {
  const flow = program
    .command('flow')
    .description('FOT-CFM: functional optimal-transport flow matching for turbulent fields');
  flow
    .command('dataset')
    .description('snapshots of solver runs at several resolutions, with a held-out split (HDF5)')
    .requiredOption('--runs <file.h5...>', 'run files of hw run / ns run (with --save-every)')
    .option('--fields <list>', 'fields as channels: omega (NS), n,omega (HW)', 'omega')
    .option('--sizes <list>', 'resolutions (powers of two, at most the run grid)', '64,128,256')
    .option('--from <t>', 'first time used (skip the transient)', '0')
    .option('--every <k>', 'use every k-th snapshot (spacing for independence)', '1')
    .option('--held-out <fraction>', 'last fraction of each run kept for testing', '0.1')
    .requiredOption('--out <file.h5>', 'dataset file to write')
    .option('--json', 'print the summary as JSON')
    .action(async (raw) => {
      const o = parseOptions(DatasetOptions, raw);
      const sizes = o.sizes.split(',').map((s) => Number(s.trim()));
      if (sizes.some((s) => !Number.isInteger(s) || s < 8 || (s & (s - 1)) !== 0))
        throw new UsageError(`--sizes '${o.sizes}' must be powers of two >= 8, e.g. 64,128`);
      const summary = await buildDataset({
        runs: o.runs,
        fields: o.fields.split(',').map((f) => f.trim()),
        sizes,
        from: o.from,
        every: o.every,
        heldOut: o.heldOut,
        out: o.out,
      });
      if (o.json) printJson(summary);
      else
        console.error(
          `wrote ${o.out}: ${summary.train} training and ${summary.test} held-out snapshots at ${sizes.join(', ')} (from ${summary.source}²)`,
        );
    });
}
