/**
 * `driftflow closure ...`: the EHW-C pipeline: `prepare` (coarse-graining of a DNS run into coarse
 * trajectories with exact sub-grid terms), `fit --method lstsq` (a-priori least squares) or
 * `--method pinn` (the physics-informed network over regimes, src/closure/pinn/), `run` (the HW
 * solver with the fitted closure), `tune` (a-posteriori calibration of the coefficients by whole
 * coarse runs against the DNS statistics) and `report` (coarse runs against the filtered DNS).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { readClosureFile } from '../../closure/closureFile.ts';
import { fitPinnClosure, formatPinnRegimes } from '../../closure/pinn/pinnFit.ts';
import { isPinnFolder, readPinnClosure } from '../../closure/pinn/pinnFolder.ts';
import { DEFAULT_PINN, type PinnConfig } from '../../closure/pinn/pinnTrainer.ts';
import { fitClosure, writeTunedClosure } from '../../closure/fitCommand.ts';
import { prepareCoarseData } from '../../closure/prepare.ts';
import { writeClosureReport } from '../../closure/report.ts';
import { signedPercent } from '../../closure/reportStats.ts';
import { EHWC_TERMS, parseTerms } from '../../closure/terms.ts';
import { SPECTRUM_LOSSES, tuneClosure } from '../../closure/tune.ts';
import { deviceLabel, openDevice } from '../../runtime/device.ts';
import { InvalidConfigError } from '../../solvers/config.ts';
import { INTEGRATOR_HELP, type Integrator, INTEGRATORS } from '../../solvers/integrator.ts';
import { deviceOption, jsonFlag, parseOptions, positiveInt } from '../options.ts';
import { printJson } from '../output.ts';
import { addHwRunOptions, HwRunOptions, hwConfig } from './hw.ts';
import { executeRun, positive } from './simulate.ts';

const PrepareOptions = z.object({
  dns: z.string(),
  factor: positiveInt,
  from: z.coerce.number().nonnegative(),
  out: z.string(),
  json: jsonFlag,
});

const FitOptions = z.object({
  data: z.array(z.string()).min(1),
  method: z.enum(['lstsq', 'pinn']),
  terms: z.string().optional(),
  out: z.string(),
  hidden: positiveInt,
  pretrainSteps: z.coerce.number().int().nonnegative(),
  steps: z.coerce.number().int().nonnegative(),
  lr: positive,
  residualWeight: z.coerce.number().nonnegative(),
  rolloutWeight: z.coerce.number().nonnegative(),
  batch: positiveInt,
  horizon: positiveInt,
  substeps: positiveInt,
  seed: z.coerce.number().int().nonnegative(),
  device: deviceOption,
  json: jsonFlag,
});

const TuneOptions = z.object({
  closure: z.string(),
  dns: z.string(),
  from: z.coerce.number().nonnegative(),
  dt: positive,
  integrator: z.enum(INTEGRATORS as [Integrator, ...Integrator[]]),
  tEnd: positive.optional(),
  saveEvery: positive,
  evaluations: positiveInt,
  step: positive,
  seeds: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'a comma-separated list of non-negative integers, e.g. 0,1')
    .transform((list) => list.split(',').map(Number))
    .optional(),
  spectrumLoss: z.enum(SPECTRUM_LOSSES),
  device: deviceOption,
  threads: positiveInt.optional(),
  out: z.string(),
  json: jsonFlag,
});

const ReportOptions = z.object({
  dns: z.string(),
  runs: z.array(z.string()).min(1),
  labels: z.string().optional(),
  from: z.coerce.number(),
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
    .option('--from <t>', 'use the snapshots at t >= this (the stationary part)', '0')
    .requiredOption('--out <file>', 'output HDF5 file')
    .option('--json', 'print the summary as JSON')
    .action(async (raw) => {
      const o = parseOptions(PrepareOptions, raw);
      const log = o.json ? console.error : console.log;
      const summary = await prepareCoarseData(o.dns, o.factor, o.out, o.from, (done, total) => {
        if (done === total || done % 10 === 0) log(`coarse-grained ${done}/${total} snapshots`);
      });
      if (o.json) printJson(summary);
      else
        log(
          `wrote ${summary.out}: ${summary.snapshots} snapshots, ${summary.fine.join('x')} -> ${summary.coarse.join('x')}`,
        );
    });

  closure
    .command('fit')
    .description(
      'fit closure coefficients: lstsq (a-priori least squares, one regime) or pinn (a network from c1, kappa to the coefficients, trained on the residual and on differentiable coarse rollouts over several regimes)',
    )
    .requiredOption(
      '--data <files...>',
      'files written by closure prepare (pinn: one or more per regime, with dense snapshots; or a training-data.safetensors)',
    )
    .option('--method <m>', 'lstsq | pinn', 'lstsq')
    .option(
      '--terms <list>',
      'equation:field:power,... (default: the EHW-C six, n:n:1,n:n:2,n:phi:1,omega:omega:1,omega:omega:2,omega:n:1)',
    )
    .requiredOption(
      '--out <dir>',
      'output folder (closure.json; pinn: network, report, closures per regime)',
    )
    .option(
      '--hidden <n>',
      'pinn: hidden width of the two-layer network',
      String(DEFAULT_PINN.hidden),
    )
    .option(
      '--pretrain-steps <n>',
      'pinn: steps on the residual alone',
      String(DEFAULT_PINN.pretrainSteps),
    )
    .option('--steps <n>', 'pinn: steps on residual + rollouts', String(DEFAULT_PINN.steps))
    .option('--lr <lr>', 'pinn: peak Adam learning rate', String(DEFAULT_PINN.lr))
    .option(
      '--residual-weight <w>',
      'pinn: weight of the a-priori residual loss',
      String(DEFAULT_PINN.residualWeight),
    )
    .option(
      '--rollout-weight <w>',
      'pinn: weight of the rollout loss',
      String(DEFAULT_PINN.rolloutWeight),
    )
    .option(
      '--batch <n>',
      'pinn: rollout starts per regime and step',
      String(DEFAULT_PINN.batchPerRegime),
    )
    .option('--horizon <n>', 'pinn: snapshot intervals per rollout', String(DEFAULT_PINN.horizon))
    .option(
      '--substeps <n>',
      'pinn: RK4 steps per snapshot interval',
      String(DEFAULT_PINN.substeps),
    )
    .option('--seed <n>', 'pinn: seed of the weights and the batches', '0')
    .option('--device <device>', 'pinn: auto | webgpu | wasm', 'auto')
    .option('--json', 'print the result as JSON')
    .action(async (raw) => {
      const o = parseOptions(FitOptions, raw);
      const terms = o.terms ? parseTerms(o.terms) : EHWC_TERMS;
      if (o.method === 'pinn') {
        const log = o.json ? console.error : console.log;
        const device = await openDevice({ prefer: o.device as never });
        const config: PinnConfig = {
          hidden: o.hidden,
          seed: o.seed,
          pretrainSteps: o.pretrainSteps,
          steps: o.steps,
          lr: o.lr,
          residualWeight: o.residualWeight,
          rolloutWeight: o.rolloutWeight,
          batchPerRegime: o.batch,
          horizon: o.horizon,
          substeps: o.substeps,
          validation: DEFAULT_PINN.validation,
        };
        log(`physics-informed closure fit on ${deviceLabel(device)}`);
        const result = await fitPinnClosure(o.data, terms, config, o.out, log);
        if (o.json) printJson(result);
        else log(formatPinnRegimes(result.regimes, terms));
        return;
      }
      const result = await fitClosure(o.data, o.method, terms, o.out);
      if (o.json) printJson(result);
      else {
        for (const t of result.terms)
          console.log(`${t.label.padEnd(32)} c = ${t.coefficient.toPrecision(5)}`);
        console.log(
          `unexplained part of tau: n ${result.relative_residual.n.toPrecision(3)}, omega ${result.relative_residual.omega.toPrecision(3)}; wrote ${result.path}`,
        );
      }
    });

  addHwRunOptions(
    closure
      .command('run')
      .description('run coarse HW with a fitted closure (EHW-C); defaults come from the closure')
      .requiredOption(
        '--closure <dir>',
        'folder (or closure.json) written by closure fit; a pinn folder with --c1 evaluates its network there',
      ),
  ).action(async (raw, command: Command) => {
    const given = (name: string) => command.getOptionValueSource(name) === 'cli';
    const location = String(raw.closure);
    const fitted = isPinnFolder(location)
      ? await readPinnClosure(
          location,
          given('c1') ? Number(raw.c1) : undefined,
          given('kappa') ? Number(raw.kappa) : undefined,
        )
      : readClosureFile(location);
    const { regime, coarse } = fitted;
    const defaults: Record<string, unknown> = {
      c1: regime.c1,
      kappa: regime.kappa,
      nu: regime.nu,
      hyperOrder: regime.hyperOrder,
      modified: regime.modified,
      k0: (2 * Math.PI) / coarse.lx,
      nx: coarse.nx,
      ny: coarse.ny,
    };
    const merged = { ...raw };
    for (const [name, value] of Object.entries(defaults)) if (!given(name)) merged[name] = value;
    for (const name of ['c1', 'kappa', 'modified'] as const)
      if (given(name) && Number(merged[name]) !== Number(regime[name]))
        throw new InvalidConfigError(
          `--${name} ${merged[name]} differs from the regime the closure was fitted in (${name} = ${regime[name]}): fit a closure for this regime`,
        );
    const options = parseOptions(HwRunOptions, merged);
    const config = hwConfig(options);
    if (config.model.kind === 'hw')
      config.model.closure = { terms: fitted.terms, coefficients: fitted.coefficients };
    await executeRun(options, config, given);
  });

  closure
    .command('tune')
    .description(
      'a-posteriori calibration: adjust the coefficients (Nelder-Mead) so coarse runs match the DNS averages and spectra',
    )
    .requiredOption('--closure <dir>', 'starting closure (folder or closure.json), e.g. from fit')
    .requiredOption('--dns <file>', 'the DNS run file of the same regime, with snapshots')
    .option('--from <t>', 'start of the averaging window (DNS and candidates)', '300')
    .option('--dt <dt>', 'time step of the candidate runs', '0.025')
    .option('--integrator <name>', `of the candidate runs: ${INTEGRATOR_HELP}`, 'rk4')
    .option('--t-end <t>', 'end time of the candidate runs (default: the DNS end time)')
    .option('--save-every <t>', 'snapshot interval of the candidates (for their spectra)', '10')
    .option('--evaluations <n>', 'number of candidate runs (the budget)', '40')
    .option('--step <f>', 'initial simplex step as a fraction of each coefficient', '0.5')
    .option('--seeds <list>', 'seeds of the runs averaged per candidate (default: the DNS seed)')
    .option(
      '--spectrum-loss <kind>',
      'spectral part of the loss: mean (over ky) or worst (the worst ky, as the 1.5x target)',
      'mean',
    )
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .requiredOption('--out <dir>', 'output folder (closure.json with the tuned coefficients)')
    .option('--json', 'print the result as JSON')
    .action(async (raw) => {
      const o = parseOptions(TuneOptions, raw);
      const log = o.json ? console.error : console.log;
      const start = readClosureFile(o.closure);
      const device = await openDevice({ prefer: o.device as never });
      const percent = (v: number | undefined) => (v === undefined ? '?' : signedPercent(v, 0));
      const result = await tuneClosure({
        start,
        dns: o.dns,
        from: o.from,
        dt: o.dt,
        integrator: o.integrator,
        tEnd: o.tEnd,
        saveEvery: o.saveEvery,
        maxEvaluations: o.evaluations,
        relativeStep: o.step,
        seeds: o.seeds,
        spectrumLoss: o.spectrumLoss,
        device,
        threads: o.threads,
        onEvaluation: (r, i, best) =>
          log(
            `candidate ${i + 1}/${o.evaluations}: loss ${r.loss.toPrecision(4)} (best ${best.toPrecision(4)}) ` +
              (r.status === 'ran'
                ? `Γn ${percent(r.relative?.gamma_n)} Γc ${percent(r.relative?.gamma_c)} E ${percent(r.relative?.energy)} U ${percent(r.relative?.enstrophy)}`
                : r.status),
          ),
      });
      const path = await writeTunedClosure(start, result, o.out);
      if (o.json) printJson({ path, start: result.start, best: result.best });
      else
        log(
          `best loss ${result.best.loss.toPrecision(4)} (start ${result.start.loss.toPrecision(4)}), coefficients ${result.best.coefficients.map((c) => c.toPrecision(4)).join(', ')}; wrote ${path}`,
        );
    });

  closure
    .command('report')
    .description(
      'compare coarse runs (EHW-C, bare, hyper-viscosity) with the filtered DNS: HTML, PNG plots, JSON',
    )
    .requiredOption('--dns <file>', 'the DNS run file (with snapshots for the spectra)')
    .requiredOption('--runs <files...>', 'coarse run files')
    .option('--labels <list>', 'comma-separated names for the runs (default: file names)')
    .option('--from <t>', 'start of the averaging window', '300')
    .requiredOption('--out <dir>', 'output folder (index.html, report.json, plots)')
    .option('--json', 'print report.json on stdout')
    .action(async (raw) => {
      const o = parseOptions(ReportOptions, raw);
      const summary = await writeClosureReport({
        dns: o.dns,
        runs: o.runs,
        labels: o.labels?.split(','),
        from: o.from,
        out: o.out,
      });
      if (o.json) printJson(summary);
      else {
        for (const r of summary.runs)
          console.log(
            `${r.label.padEnd(12)} ${Object.entries(r.vsDns.relative)
              .map(([q, v]) => `${q} ${(100 * v).toFixed(1)}%`)
              .join('  ')}  spectra x${Object.values(r.vsDns.spectrumFactor)
              .map((v) => v?.toFixed(2) ?? '-')
              .join('/')}`,
          );
        console.log(`wrote ${o.out}/index.html`);
      }
    });
}
