/**
 * `driftflow closure ...`: the EHW-C pipeline: `prepare` (coarse-graining of a DNS run into coarse
 * trajectories with exact sub-grid terms), `fit --method lstsq` (a-priori least squares), `run`
 * (the HW solver with the fitted closure) and `report` (coarse runs against the filtered DNS).
 * The physics-informed fit is not built yet.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { readClosureFile } from '../../closure/closureFile.ts';
import { fitClosure } from '../../closure/fitCommand.ts';
import { prepareCoarseData } from '../../closure/prepare.ts';
import { writeClosureReport } from '../../closure/report.ts';
import { EHWC_TERMS, parseTerms } from '../../closure/terms.ts';
import { InvalidConfigError } from '../../solvers/config.ts';
import { jsonFlag, parseOptions, positiveInt } from '../options.ts';
import { printJson } from '../output.ts';
import { addHwRunOptions, HwRunOptions, hwConfig } from './hw.ts';
import { executeRun } from './simulate.ts';

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
    await executeRun(options, config, given('tEnd'));
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
