/**
 * `driftflow ns run --case fno|kolmogorov|decaying`: 2-D Navier-Stokes in vorticity form.
 *   fno:        [0,1]², f = 0.1(sin 2π(x+y) + cos 2π(x+y)), GRF initial vorticity (Li et al. 2021)
 *   kolmogorov: [0,2π]², f = A n cos(n y), ν = 1/Re, optional linear drag, laminar profile + noise
 *   decaying:   [0,2π]², no forcing, random vorticity with an energy spectrum peaked at k = 10
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { SimulationConfig } from '../../solvers/config.ts';
import type { InitialKind } from '../../solvers/initial.ts';
import { parseOptions, positiveInt } from '../options.ts';
import {
  addCommonRunOptions,
  CommonRunOptions,
  executeRun,
  nonNegative,
  positive,
  runConfig,
} from './simulate.ts';

const CASES = ['fno', 'kolmogorov', 'decaying'] as const;

const NsRunOptions = CommonRunOptions.extend({
  case: z.enum(CASES),
  nu: nonNegative.optional(),
  re: positive.optional(),
  drag: nonNegative,
  forcingAmplitude: positive.optional(),
  forcingWavenumber: positiveInt,
  initAmplitude: nonNegative.optional(),
});
type NsRunOptions = z.infer<typeof NsRunOptions>;

export function nsConfig(o: NsRunOptions): SimulationConfig {
  const unitBox = o.case === 'fno';
  const l = unitBox ? 1 : 2 * Math.PI;
  const nu =
    o.nu ??
    (o.re !== undefined
      ? 1 / o.re
      : o.case === 'fno'
        ? 1e-3
        : o.case === 'kolmogorov'
          ? 1e-3
          : 1e-4);
  const init: InitialKind =
    o.case === 'fno' ? 'fno-grf' : o.case === 'kolmogorov' ? 'laminar' : 'decaying';
  const model: SimulationConfig['model'] = {
    kind: 'ns',
    nu,
    drag: o.drag,
    forcing: o.case === 'decaying' ? 'none' : o.case,
    forcingAmplitude: o.forcingAmplitude ?? (o.case === 'fno' ? 0.1 : 1),
    forcingWavenumber: o.forcingWavenumber,
  };
  return runConfig(o, model, l, init, o.initAmplitude ?? (o.case === 'kolmogorov' ? 0.1 : 1));
}

export function register(program: Command): void {
  const ns = program.command('ns').description('2-D Navier-Stokes (vorticity form)');
  addCommonRunOptions(ns.command('run').description('run a Navier-Stokes case'), {
    nx: '256',
    dt: '0.001',
    tEnd: '50',
    saveEvery: '1',
    statsFrom: '0',
  })
    .requiredOption('--case <case>', CASES.join(' | '))
    .option('--nu <nu>', 'viscosity (default: fno 1e-3, kolmogorov 1/Re, decaying 1e-4)')
    .option(
      '--re <Re>',
      'Reynolds number, sets nu = 1/Re (Kolmogorov convention, unit forcing amplitude)',
    )
    .option('--drag <mu>', 'linear drag μ', '0')
    .option('--forcing-amplitude <A>', 'forcing amplitude (fno 0.1, kolmogorov 1)')
    .option('--forcing-wavenumber <n>', 'Kolmogorov forcing wavenumber n', '4')
    .option(
      '--init-amplitude <a>',
      'kolmogorov: noise on the laminar state; decaying: rms velocity',
    )
    .action(async (raw, command: Command) => {
      const options = parseOptions(NsRunOptions, raw);
      await executeRun(
        options,
        nsConfig(options),
        (flag) => command.getOptionValueSource(flag) === 'cli',
      );
    });
}
