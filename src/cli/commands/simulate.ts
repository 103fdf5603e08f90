/**
 * What `hw run` and `ns run` share: options every solver takes, opening the device, a fresh or
 * resumed run with a progress display, and the summary (human text or `--json`).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { deviceLabel, openDevice } from '../../runtime/device.ts';
import type { SimulationConfig } from '../../solvers/config.ts';
import { INTEGRATOR_HELP, INTEGRATORS } from '../../solvers/integrator.ts';
import { runSimulation, type RunSummary } from '../../solvers/run.ts';
import { prepareFresh, prepareResume } from '../../solvers/session.ts';
import { deviceOption, jsonFlag, positiveInt } from '../options.ts';
import { createProgress, printJson } from '../output.ts';

export const finite = z.coerce.number().refine(Number.isFinite, 'must be a finite number');
export const positive = finite.refine((v) => v > 0, 'must be > 0');
export const nonNegative = finite.refine((v) => v >= 0, 'must be >= 0');

export const CommonRunOptions = z.object({
  nx: positiveInt,
  ny: positiveInt.optional(),
  dt: positive,
  tEnd: positive,
  seed: z.coerce.number().int().nonnegative(),
  scheme: z.enum(['spectral', 'arakawa']),
  integrator: z.enum(INTEGRATORS as [string, ...string[]]),
  saveEvery: nonNegative,
  diagEvery: positiveInt,
  statsFrom: nonNegative,
  checkpointEvery: positive,
  out: z.string().optional(),
  resume: z.string().optional(),
  device: deviceOption,
  precision: z.enum(['f32', 'f64']),
  threads: positiveInt.optional(),
  json: jsonFlag,
});
export type CommonRunOptions = z.infer<typeof CommonRunOptions>;

/** The config fields every solver command takes from the shared flags, around its model. */
export function runConfig(
  o: CommonRunOptions,
  model: SimulationConfig['model'],
  box: number,
  init: SimulationConfig['init'],
  initAmplitude: number,
): SimulationConfig {
  return {
    model,
    nx: o.nx,
    ny: o.ny ?? o.nx,
    lx: box,
    ly: box,
    scheme: o.scheme as SimulationConfig['scheme'],
    integrator: o.integrator as SimulationConfig['integrator'],
    dt: o.dt,
    tEnd: o.tEnd,
    seed: o.seed,
    init,
    initAmplitude,
    saveEvery: o.saveEvery,
    diagEvery: o.diagEvery,
    precision: o.precision,
  };
}

/** Adds the shared flags with their defaults (per command where they differ). */
export function addCommonRunOptions(
  command: Command,
  defaults: { nx: string; dt: string; tEnd: string; saveEvery: string; statsFrom: string },
): Command {
  return command
    .option('--nx <n>', 'grid points along x (power of two)', defaults.nx)
    .option('--ny <n>', 'grid points along y (default: nx)')
    .option('--dt <dt>', 'time step', defaults.dt)
    .option('--t-end <t>', 'end time', defaults.tEnd)
    .option('--seed <n>', 'random seed of the initial state', '0')
    .option('--scheme <scheme>', 'spectral (2/3 de-aliased) | arakawa', 'spectral')
    .option('--integrator <name>', INTEGRATOR_HELP, 'rk4')
    .option(
      '--save-every <t>',
      'snapshot interval in time units (0: final state only; with --resume: from the checkpoint on)',
      defaults.saveEvery,
    )
    .option('--diag-every <steps>', 'diagnostics sampling interval in steps', '10')
    .option('--stats-from <t>', 'average the summary over t >= this', defaults.statsFrom)
    .option('--checkpoint-every <s>', 'publish the output file every this many wall seconds', '60')
    .option('--out <file>', 'HDF5 output (fields, spectra, time series, checkpoint)')
    .option(
      '--resume <file>',
      'continue the run in this file from its last checkpoint (--t-end may extend it)',
    )
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--precision <p>', 'CPU arithmetic: f32 (PFFFT, fast) | f64 (reference)', 'f32')
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option('--json', 'print the final summary as JSON');
}

/** Runs a configured (or resumed) simulation with progress output and prints its summary. */
export async function executeRun(
  options: CommonRunOptions,
  config: SimulationConfig,
  /** Whether a flag was given on the command line (a resumed run takes --t-end and --save-every). */
  given: (flag: 'tEnd' | 'saveEvery') => boolean,
): Promise<RunSummary> {
  const device = await openDevice({ prefer: options.device as never });
  const threads = options.threads;
  const log = options.json ? console.error : console.log;
  const command = `driftflow ${process.argv.slice(2).join(' ')}`;
  const prepared = options.resume
    ? await prepareResume(
        options.resume,
        device,
        {
          tEnd: given('tEnd') ? options.tEnd : undefined,
          saveEvery: given('saveEvery') ? options.saveEvery : undefined,
        },
        threads,
      )
    : await prepareFresh(
        config,
        device,
        options.out ?? null,
        { command, device: deviceLabel(device), driftflow_version: '0.1.0' },
        threads,
      );
  const c = prepared.config;
  log(
    `${c.model.kind.toUpperCase()} ${c.nx}x${c.ny}, dt=${c.dt}, t_end=${c.tEnd} on ${prepared.stepper.deviceLabel}` +
      (options.resume ? ` (resuming at t=${(prepared.start.step * c.dt).toFixed(3)})` : ''),
  );
  const total = Math.round(c.tEnd / c.dt);
  const progress = createProgress('steps', total);
  try {
    const summary = await runSimulation({
      ...prepared,
      statsFrom: options.statsFrom,
      checkpointEverySeconds: options.checkpointEvery,
      onProgress: (step, _total, info) => progress.update(step, info),
    });
    progress.stop();
    const result = {
      ...summary,
      device: deviceLabel(device),
      out: prepared.writer?.target ?? null,
    };
    if (options.json) printJson(result);
    else {
      log(
        `done: ${summary.steps} steps in ${summary.wallSeconds.toFixed(1)} s (${summary.stepsPerSecond.toFixed(1)} steps/s)`,
      );
      log(`averages over t >= ${summary.statsFrom} (${summary.samplesAveraged} samples):`);
      for (const [name, value] of Object.entries(summary.averages))
        log(`  ${name.padEnd(14)} ${value.toPrecision(5)}`);
      if (prepared.writer) log(`wrote ${prepared.writer.target}`);
    }
    return summary;
  } finally {
    progress.stop();
    prepared.stepper.destroy();
  }
}
