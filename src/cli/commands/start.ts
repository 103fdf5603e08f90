/**
 * `driftflow start` (what `npm start` runs): a short Hasegawa-Wakatani simulation on the default
 * device (the H100 where there is one, else the CPU path), through the linear phase into turbulence,
 * writing `driftflow-start/run.h5` and its plots (n, φ, Ω as PNG; spectra and time series).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { plotRun } from '../../plots/runPlots.ts';
import { deviceOption, parseOptions, positiveInt } from '../options.ts';
import { hwConfig } from './hw.ts';
import { CommonRunOptions, executeRun } from './simulate.ts';

const StartOptions = z.object({
  device: deviceOption,
  nx: positiveInt.default(128),
  tEnd: z.coerce.number().positive().default(150),
  out: z.string().default('driftflow-start'),
});

export function register(program: Command): void {
  program
    .command('start')
    .description('run a short HW simulation and plot it (the `npm start` job)')
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--nx <n>', 'grid points per direction', '128')
    .option('--t-end <t>', 'end time', '150')
    .option('--out <dir>', 'output folder', 'driftflow-start')
    .action(async (raw) => {
      const o = parseOptions(StartOptions, raw);
      const options = CommonRunOptions.parse({
        nx: o.nx,
        dt: 0.025,
        tEnd: o.tEnd,
        seed: 0,
        scheme: 'spectral',
        integrator: 'rk4',
        saveEvery: 10,
        diagEvery: 10,
        statsFrom: 100,
        checkpointEvery: 60,
        out: `${o.out}/run.h5`,
        device: o.device,
        precision: 'f32',
        json: false,
      });
      // ν scaled so the 2/3 cut-off is damped at this resolution (hw2d's 5e-8 is for 512² stencils).
      const nu = 5e-8 * (512 / o.nx) ** 6;
      const config = hwConfig({
        ...options,
        c1: 1,
        kappa: 1,
        k0: 0.15,
        nu,
        hyperOrder: 3,
        modified: false,
        initAmplitude: 0.01,
      });
      await executeRun(options, config, () => true);
      for (const path of await plotRun(`${o.out}/run.h5`, o.out)) console.log(`wrote ${path}`);
    });
}
