/**
 * Benchmark harness: `npm run bench -- <name> [--device auto|webgpu|wasm] [--json] [--out FILE]`.
 * Prints one JSON object per benchmark (name, device, adapter, parameters, medians over repeats)
 * with the command line and commit that produced it, so results committed under bench/results/
 * can be reproduced. Speed targets live here, never in timed tests.
 */
import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { z } from 'zod';
import { deviceSummary } from '../src/cli/commands/info.ts';
import { deviceOption, parseOptions, positiveInt } from '../src/cli/options.ts';
import { printJson } from '../src/cli/output.ts';
import { writeFileAtomic } from '../src/io/atomic.ts';
import { openDevice } from '../src/runtime/device.ts';
import { runToExit } from '../src/runtime/exit.ts';
import { BENCHMARKS } from './registry.ts';

const BenchOptions = z.object({
  device: deviceOption,
  json: z.boolean().default(false),
  out: z.string().optional(),
  repeats: positiveInt.optional(),
  sizeMib: positiveInt.optional(),
});

/** The commit measured: DRIFTFLOW_COMMIT where the checkout has no .git (the GPU machine's copy). */
function gitCommit(): string | null {
  if (process.env.DRIFTFLOW_COMMIT) return process.env.DRIFTFLOW_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

await runToExit(async () => {
  const program = new Command('npm run bench --')
    .argument('<names...>', `benchmarks to run: ${Object.keys(BENCHMARKS).join(', ')}, or all`)
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--repeats <n>', 'timed repetitions (median reported)')
    .option('--size-mib <n>', 'buffer size in MiB where the benchmark takes one')
    .option('--json', 'print only JSON')
    .option('--out <file>', 'also write the results (a JSON array) to this file');
  program.parse(process.argv);
  const options = parseOptions(BenchOptions, program.opts());
  const names: string[] = program.args[0] === 'all' ? Object.keys(BENCHMARKS) : program.args;
  for (const name of names) {
    if (!(name in BENCHMARKS))
      throw new Error(
        `unknown benchmark '${name}': choose from ${Object.keys(BENCHMARKS).join(', ')}, all`,
      );
  }
  const device = await openDevice({ prefer: options.device as never });
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  const results = [];
  for (const name of names) {
    if (!options.json) console.error(`running ${name} on ${deviceSummary(device).label} ...`);
    const body = await BENCHMARKS[name]!(device, {
      repeats: options.repeats,
      sizeMib: options.sizeMib,
    });
    const result = {
      name,
      device: deviceSummary(device),
      ...body,
      command,
      commit: gitCommit(),
      date: new Date().toISOString(),
      node: process.version,
    };
    printJson(result);
    results.push(result);
  }
  if (options.out) await writeFileAtomic(options.out, `${JSON.stringify(results, null, 2)}\n`);
  return 0;
});
