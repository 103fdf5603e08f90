/**
 * `driftflow hw run` (Hasegawa-Wakatani, ordinary or `--modified`, hw2d conventions and defaults:
 * the 512², ν = 5e-8, dt = 0.025 reference case) and `driftflow hw linear` (measured vs analytic
 * growth rate and frequency of one drift-wave mode in the full solver).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { SimulationConfig } from '../../solvers/config.ts';
import { INTEGRATOR_HELP, type Integrator, INTEGRATORS } from '../../solvers/integrator.ts';
import { measureLinearMode } from '../../solvers/linearRun.ts';
import { deviceOption, jsonFlag, parseOptions, positiveInt } from '../options.ts';
import { printJson } from '../output.ts';
import {
  addCommonRunOptions,
  runConfig,
  CommonRunOptions,
  executeRun,
  finite,
  nonNegative,
  positive,
} from './simulate.ts';

/** The HW model flags `hw run` and `hw linear` share. */
const HwModelOptions = {
  c1: positive,
  kappa: finite,
  k0: positive,
  nu: nonNegative,
  hyperOrder: positiveInt,
  modified: z.boolean().default(false),
};

function addHwModelOptions(command: Command, nu: string, hyperOrderHelp: string): Command {
  return command
    .option('--c1 <c1>', 'adiabaticity', '1')
    .option('--kappa <kappa>', 'background density gradient', '1')
    .option('--k0 <k0>', 'lowest wavenumber; box L = 2π/k0', '0.15')
    .option('--nu <nu>', 'hyper-diffusion coefficient', nu)
    .option('--hyper-order <N>', hyperOrderHelp, '3')
    .option('--modified', 'modified HW: no zonal (ky = 0) part in the coupling');
}

export const HwRunOptions = CommonRunOptions.extend({ ...HwModelOptions, initAmplitude: positive });

const HwLinearOptions = z.object({
  ...HwModelOptions,
  nx: positiveInt,
  kx: nonNegative,
  ky: finite,
  dt: positive,
  tEnd: positive,
  integrator: z.enum(INTEGRATORS as [Integrator, ...Integrator[]]),
  device: deviceOption,
  json: jsonFlag,
});

export function hwConfig(o: z.infer<typeof HwRunOptions>): SimulationConfig {
  const { c1, kappa, nu, hyperOrder, modified } = o;
  const model = { kind: 'hw' as const, c1, kappa, nu, hyperOrder, modified };
  return runConfig(o, model, (2 * Math.PI) / o.k0, 'noise', o.initAmplitude);
}

/** The flags of `hw run` (also `closure run`), with hw2d's 512² reference case as defaults. */
export function addHwRunOptions(command: Command): Command {
  const run = addCommonRunOptions(command, {
    nx: '512',
    dt: '0.025',
    tEnd: '1000',
    saveEvery: '10',
    statsFrom: '300',
  });
  return addHwModelOptions(run, '5e-8', 'D(f) = −ν(−∇²)^N f').option(
    '--init-amplitude <a>',
    'white-noise amplitude of n and Ω',
    '0.01',
  );
}

export function register(program: Command): void {
  const hw = program.command('hw').description('Hasegawa-Wakatani drift-wave turbulence');
  addHwRunOptions(hw.command('run').description('run an HW simulation (hw2d conventions)')).action(
    async (raw, command: Command) => {
      const options = parseOptions(HwRunOptions, raw);
      await executeRun(
        options,
        hwConfig(options),
        (flag) => command.getOptionValueSource(flag) === 'cli',
      );
    },
  );

  const linear = hw
    .command('linear')
    .description(
      'measure the linear growth rate and frequency of one mode against the dispersion relation',
    )
    .option('--nx <n>', 'grid points per direction', '64');
  addHwModelOptions(linear, '0', 'hyper-diffusion order')
    .option('--kx <kx>', 'mode wavenumber along x (a multiple of k0)', '0')
    .option('--ky <ky>', 'mode wavenumber along y (a multiple of k0)', '1.2')
    .option('--dt <dt>', 'time step', '0.05')
    .option('--t-end <t>', 'measurement time', '20')
    .option('--integrator <name>', INTEGRATOR_HELP, 'rk4')
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--json', 'print JSON')
    .action(async (raw) => {
      const o = parseOptions(HwLinearOptions, raw);
      const result = await measureLinearMode(o);
      if (o.json) printJson(result);
      else {
        console.log(`mode (kx, ky) = (${result.kx}, ${result.ky}) on ${result.device}`);
        console.log(
          `growth rate: measured ${result.measured.growthRate.toPrecision(6)}, analytic ${result.analytic.growthRate.toPrecision(6)} (rel. error ${result.relativeError.growthRate.toExponential(2)})`,
        );
        console.log(
          `frequency:   measured ${result.measured.frequency.toPrecision(6)}, analytic ${result.analytic.frequency.toPrecision(6)} (rel. error ${result.relativeError.frequency.toExponential(2)})`,
        );
      }
    });
}
