/**
 * `driftflow closure ...`: the EHW-C pipeline: `prepare` (coarse-graining of a DNS run into coarse
 * trajectories with exact sub-grid terms), `fit --method lstsq` (a-priori least squares), `run`
 * (the HW solver with the fitted closure), `tune` (a-posteriori calibration of the coefficients by
 * whole coarse runs against the DNS statistics) and `report` (coarse runs against the filtered
 * DNS). The physics-informed fit is not built yet.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { readClosureFile } from '../../closure/closureFile.ts';
import { fitClosure, writeTunedClosure } from '../../closure/fitCommand.ts';
import { prepareCoarseData } from '../../closure/prepare.ts';
import { writeClosureReport } from '../../closure/report.ts';
import { signedPercent } from '../../closure/reportStats.ts';
import { EHWC_TERMS, parseTerms } from '../../closure/terms.ts';
import { tuneClosure } from '../../closure/tune.ts';
import { openDevice } from '../../runtime/device.ts';
import { InvalidConfigError } from '../../solvers/config.ts';
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
  json: jsonFlag,
});

const TuneOptions = z.object({
  closure: z.string(),
  dns: z.string(),
  from: z.coerce.number().nonnegative(),
  dt: positive,
  tEnd: positive.optional(),
  saveEvery: positive,
  evaluations: positiveInt,
  step: positive,
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
    .description('fit closure coefficients to coarse-grained data of one regime')
    .requiredOption('--data <files...>', 'files written by closure prepare')
    .option('--method <m>', 'lstsq (a-priori least squares) | pinn (not built yet)', 'lstsq')
    .option(
      '--terms <list>',
      'equation:field:power,... (default: the EHW-C six, n:n:1,n:n:2,n:phi:1,omega:omega:1,omega:omega:2,omega:n:1)',
    )
    .requiredOption('--out <dir>', 'output folder (closure.json)')
    .option('--json', 'print the result as JSON')
    .action(async (raw) => {
      const o = parseOptions(FitOptions, raw);
      const terms = o.terms ? parseTerms(o.terms) : EHWC_TERMS;
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
      .requiredOption('--closure <dir>', 'folder (or closure.json) written by closure fit'),
  ).action(async (raw, command: Command) => {
    const fitted = readClosureFile(String(raw.closure));
    const given = (name: string) => command.getOptionValueSource(name) === 'cli';
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
    .option('--t-end <t>', 'end time of the candidate runs (default: the DNS end time)')
    .option('--save-every <t>', 'snapshot interval of the candidates (for their spectra)', '10')
    .option('--evaluations <n>', 'number of candidate runs (the budget)', '40')
    .option('--step <f>', 'initial simplex step as a fraction of each coefficient', '0.5')
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
        tEnd: o.tEnd,
        saveEvery: o.saveEvery,
        maxEvaluations: o.evaluations,
        relativeStep: o.step,
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
