/**
 * `driftflow flow ...`: FOT-CFM, functional flow matching for turbulent fields.
 *   dataset  snapshots of solver runs at several resolutions with a held-out split (HDF5)
 *   train    the FNO velocity field by flow matching with minibatch OT (jax-js), or the same FNO
 *            as the grid-diffusion (DDPM) baseline
 *   sample   fields from a trained model at any resolution, with an ODE method and NFE
 *   eval     generated fields against held-out DNS: spectra, one-point statistics, structure
 *            functions, straightness, galleries; several sample files side by side
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { buildDataset } from '../../flow/dataset.ts';
import { DIFFUSION_SAMPLERS } from '../../flow/diffusion.ts';
import { evaluateSamples } from '../../flow/evaluate.ts';
import { ODE_METHODS, TIME_GRIDS } from '../../flow/odeSolvers.ts';
import { sampleFlow } from '../../flow/sampleFlow.ts';
import { trainFlow } from '../../flow/trainFlow.ts';
import { deviceLabel, openDevice } from '../../runtime/device.ts';
import { deviceOption, jsonFlag, parseOptions, positiveInt, UsageError } from '../options.ts';
import { createProgress, printJson } from '../output.ts';

const TrainOptions = z.object({
  data: z.string().min(1),
  size: positiveInt,
  out: z.string().min(1),
  width: positiveInt.default(64),
  modes: positiveInt.default(16),
  layers: positiveInt.default(4),
  projection: positiveInt.default(128),
  timeFeatures: z.coerce.number().int().nonnegative().default(0),
  lossWeighting: z.enum(['none', 'shell']).default('none'),
  coupling: z.enum(['ot', 'independent']).optional(),
  objective: z.enum(['flow', 'ddpm']).default('flow'),
  noiseTau: z.coerce.number().positive().default(3),
  noiseAlpha: z.coerce.number().gt(1).default(2),
  noiseFit: z.boolean().default(false),
  steps: positiveInt.default(5000),
  batch: positiveInt.default(32),
  lr: z.coerce.number().positive().default(1e-3),
  warmup: positiveInt.default(100),
  sigmaMin: z.coerce.number().nonnegative().default(0),
  ema: z.coerce.number().min(0).lt(1).default(0.999),
  seed: z.coerce.number().int().nonnegative().default(0),
  checkpointEvery: positiveInt.default(250),
  maxStepsThisRun: positiveInt.optional(),
  resume: z.boolean().default(false),
  device: deviceOption,
  json: jsonFlag,
});

const EvalOptions = z.object({
  samples: z.array(z.string().min(1)).min(1),
  labels: z.array(z.string().min(1)).optional(),
  data: z.string().min(1),
  split: z.enum(['test', 'train']).optional(),
  maxShell: positiveInt.optional(),
  out: z.string().min(1),
  json: jsonFlag,
});

const SampleOptions = z.object({
  model: z.string().min(1),
  nx: positiveInt,
  n: positiveInt.default(16),
  method: z.enum([...ODE_METHODS, ...DIFFUSION_SAMPLERS]).default('rk4'),
  nfe: positiveInt.default(8),
  timeGrid: z.enum(TIME_GRIDS).default('uniform'),
  rtol: z.coerce.number().positive().default(1e-3),
  seed: z.coerce.number().int().nonnegative().default(0),
  batch: positiveInt.default(16),
  out: z.string().min(1),
  device: deviceOption,
  json: jsonFlag,
});

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
  flow
    .command('train')
    .description(
      'train the FNO velocity field by flow matching (minibatch OT or independent pairs)',
    )
    .requiredOption('--data <file.h5>', 'flow dataset file')
    .requiredOption('--size <n>', 'training resolution (one of the dataset sizes)')
    .requiredOption('--out <dir>', 'model folder (fno.safetensors; state in <dir>/training)')
    .option('--width <n>', 'FNO width', '64')
    .option('--modes <m>', 'Fourier modes kept per direction', '16')
    .option('--layers <n>', 'spectral layers', '4')
    .option('--projection <n>', 'projection width', '128')
    .option(
      '--time-features <n>',
      'Fourier features of t for a per-layer FiLM time modulation (even; 0: t only as an input channel)',
      '0',
    )
    .option(
      '--loss-weighting <w>',
      'none (pixel MSE) | shell (Fourier-space loss, shells weighted by (mean / target power)^0.5)',
      'none',
    )
    .option('--objective <o>', 'flow (flow matching) | ddpm (grid-diffusion baseline)', 'flow')
    .option('--coupling <c>', 'flow objective: ot | independent (default ot)')
    .option('--noise-tau <tau>', 'noise measure tau', '3')
    .option('--noise-alpha <alpha>', 'noise measure alpha (> 1)', '2')
    .option(
      '--noise-fit',
      "fit the noise measure's tau and alpha to the training fields' shell spectrum (replaces --noise-tau/--noise-alpha)",
    )
    .option('--steps <n>', 'optimiser steps', '5000')
    .option('--batch <n>', 'fields per step (OT pairs within it)', '32')
    .option('--lr <x>', 'peak learning rate', '1e-3')
    .option('--warmup <n>', 'warm-up steps', '100')
    .option('--sigma-min <s>', 'path widening', '0')
    .option('--ema <decay>', 'EMA decay of the saved weights (0: none)', '0.999')
    .option('--seed <n>', 'seed', '0')
    .option('--checkpoint-every <n>', 'state save interval (steps)', '250')
    .option('--max-steps-this-run <n>', 'stop after this many steps (resume later)')
    .option('--resume', 'continue the run saved in <dir>/training')
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--json', 'print the summary as JSON')
    .action(async (raw) => {
      const o = parseOptions(TrainOptions, raw);
      if (o.objective === 'ddpm' && o.noiseFit)
        throw new UsageError(
          '--noise-fit shapes the flow-matching noise measure; DDPM starts from white noise on the grid: drop --noise-fit',
        );
      if (o.objective === 'ddpm' && o.coupling)
        throw new UsageError(
          `--coupling ${o.coupling} pairs noise with data for flow matching; DDPM pairs nothing: drop --coupling`,
        );
      if (o.timeFeatures % 2 !== 0)
        throw new UsageError(
          `--time-features ${o.timeFeatures} must be even (a sine and a cosine per frequency): use ${o.timeFeatures + 1}`,
        );
      if (o.size < 2 * o.modes)
        throw new UsageError(
          `--size ${o.size} is too small for --modes ${o.modes}: use --modes <= ${o.size / 2}`,
        );
      const device = await openDevice({ prefer: o.device as never });
      console.error(`training on ${deviceLabel(device)}`);
      const progress = createProgress('flow matching', o.steps);
      const summary = await trainFlow({
        data: o.data,
        size: o.size,
        out: o.out,
        shape: {
          width: o.width,
          modes: o.modes,
          layers: o.layers,
          projection: o.projection,
          ...(o.timeFeatures > 0 ? { timeFeatures: o.timeFeatures } : {}),
        },
        noise: o.noiseFit ? 'fit' : { tau: o.noiseTau, alpha: o.noiseAlpha },
        coupling: o.coupling ?? 'ot',
        objective: o.objective,
        lossWeighting: o.lossWeighting,
        train: {
          seed: o.seed,
          batch: o.batch,
          steps: o.steps,
          peakLr: o.lr,
          warmup: o.warmup,
          weightDecay: 0,
          sigmaMin: o.sigmaMin,
          emaDecay: o.ema,
        },
        resume: o.resume,
        checkpointEvery: o.checkpointEvery,
        ...(o.maxStepsThisRun ? { maxStepsThisRun: o.maxStepsThisRun } : {}),
        onProgress: (step, info) => progress.update(step, info),
      });
      progress.stop();
      if (o.json) printJson({ ...summary, device: deviceLabel(device) });
      else
        console.error(
          `${summary.finished ? 'finished' : 'stopped'} at step ${summary.steps}, loss ${summary.finalLoss.toFixed(4)}, ${summary.samplesPerSecond.toFixed(1)} samples/s` +
            (summary.finished ? `; model in ${o.out}/fno.safetensors` : '; continue with --resume'),
        );
    });
  flow
    .command('sample')
    .description('draw fields from a trained model at any resolution')
    .requiredOption('--model <file>', 'fno.safetensors (flow train)')
    .requiredOption('--nx <n>', 'resolution (any power of two >= 2 x modes)')
    .option('--n <count>', 'fields to draw', '16')
    .option(
      '--method <m>',
      `flow models: ${ODE_METHODS.join(' | ')}; DDPM models: ${DIFFUSION_SAMPLERS.join(' | ')}`,
      'rk4',
    )
    .option('--nfe <n>', 'function evaluations (fixed-step methods, ddpm, ddim)', '8')
    .option(
      '--time-grid <grid>',
      `fixed-step methods: where the steps go on [0, 1]: ${TIME_GRIDS.join(' | ')}`,
      'uniform',
    )
    .option('--rtol <x>', 'dopri5 relative tolerance', '1e-3')
    .option('--seed <n>', 'seed', '0')
    .option('--batch <n>', 'fields per velocity call', '16')
    .requiredOption('--out <file.h5>', 'samples file')
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--json', 'print the summary as JSON')
    .action(async (raw) => {
      const o = parseOptions(SampleOptions, raw);
      if ((o.nx & (o.nx - 1)) !== 0 || o.nx < 8)
        throw new UsageError(`--nx ${o.nx} must be a power of two >= 8`);
      const device = await openDevice({ prefer: o.device as never });
      const r = await sampleFlow({
        model: o.model,
        size: o.nx,
        count: o.n,
        method: o.method,
        nfe: o.nfe,
        timeGrid: o.timeGrid,
        rtol: o.rtol,
        seed: o.seed,
        batch: o.batch,
        out: o.out,
      });
      const summary = {
        out: o.out,
        size: o.nx,
        trainSize: r.meta.trainSize,
        count: o.n,
        method: o.method,
        nfe: r.nfe,
        timeGrid: r.timeGrid,
        seconds: r.seconds,
        fieldsPerSecond: r.fieldsPerSecond,
        straightness: r.straightness,
        device: deviceLabel(device),
      };
      if (o.json) printJson(summary);
      else
        console.error(
          `wrote ${o.out}: ${o.n} fields at ${o.nx}² (trained at ${r.meta.trainSize}²), ${o.method} with ${r.nfe} NFE, ${r.fieldsPerSecond.toFixed(1)} fields/s`,
        );
    });
  flow
    .command('eval')
    .description(
      'generated fields against held-out DNS: spectra, statistics, structure functions, gallery',
    )
    .requiredOption('--samples <file.h5...>', 'flow sample outputs (one resolution), side by side')
    .option('--labels <name...>', 'a label per samples file (default: file names)')
    .requiredOption('--data <file.h5>', 'flow dataset file (its /test fields at the same size)')
    .option('--split <split>', 'test | train (default: test when present)')
    .option('--max-shell <k>', 'shells compared (default: a quarter of the grid)')
    .requiredOption('--out <dir>', 'folder for eval.json, plots, gallery and index.html')
    .option('--json', 'print the report as JSON')
    .action(async (raw) => {
      const o = parseOptions(EvalOptions, raw);
      const report = await evaluateSamples({
        samples: o.samples,
        data: o.data,
        out: o.out,
        ...(o.labels ? { labels: o.labels } : {}),
        ...(o.split ? { split: o.split } : {}),
        ...(o.maxShell ? { maxShell: o.maxShell } : {}),
      });
      if (o.json) printJson(report);
      else
        for (const run of report.runs)
          for (const c of run.channels)
            console.error(
              `${run.label} ${c.name}: spectrum error <= ${(100 * c.errors.maxSpectrumError).toFixed(1)}% (shells 1-${report.maxShell}), kurtosis ${c.stats.kurtosis.toFixed(2)} vs ${report.reference[c.channel]!.stats.kurtosis.toFixed(2)}, S2 error <= ${(100 * c.errors.maxStructureError[2]!).toFixed(1)}%` +
                (run.straightness === null ? '' : `, straightness ${run.straightness.toFixed(3)}`),
            );
      if (!o.json && report.splitFloor)
        for (const [c, e] of report.splitFloor.channels.entries())
          console.error(
            `DNS ${report.splitFloor.split} split against ${report.split} (the floor) ${report.reference[c]!.name}: spectrum error <= ${(100 * e.maxSpectrumError).toFixed(1)}%, kurtosis ${(100 * e.kurtosisError).toFixed(1)}%`,
          );
      console.error(`report in ${o.out}/index.html`);
    });
}
