/**
 * `driftflow closure ...`: the EHW-C pipeline. So far `prepare` (coarse-graining of a DNS run into
 * coarse trajectories with exact sub-grid terms); fit, run and report are not built yet.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { prepareCoarseData } from '../../closure/prepare.ts';
import { jsonFlag, parseOptions, positiveInt } from '../options.ts';
import { printJson } from '../output.ts';

const PrepareOptions = z.object({
  dns: z.string(),
  factor: positiveInt,
  out: z.string(),
  json: jsonFlag,
});

export function register(program: Command): void {
  const closure = program.command('closure').description('EHW-C: learned closure for coarse HW');
  closure
    .command('prepare')
    .description(
      'coarse-grain the snapshots of an HW DNS run: coarse fields, exact sub-grid terms, filtered time derivatives',
    )
    .requiredOption('--dns <file>', 'HDF5 file of a spectral `hw run` with snapshots')
    .option('--factor <n>', 'decimation per direction (power of two)', '8')
    .requiredOption('--out <file>', 'output HDF5 file')
    .option('--json', 'print the summary as JSON')
    .action(async (raw) => {
      const o = parseOptions(PrepareOptions, raw);
      const log = o.json ? console.error : console.log;
      const summary = await prepareCoarseData(o.dns, o.factor, o.out, (done, total) => {
        if (done === total || done % 10 === 0) log(`coarse-grained ${done}/${total} snapshots`);
      });
      if (o.json) printJson(summary);
      else
        log(
          `wrote ${summary.out}: ${summary.snapshots} snapshots, ${summary.fine.join('x')} -> ${summary.coarse.join('x')}`,
        );
    });
}
