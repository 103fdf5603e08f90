/**
 * `driftflow moe train-lm`: the training side of the MoE tools (ExpertFlow, issue 7), kept apart
 * from the inference commands in moe.ts. It trains driftflow's own Mixtral-layout MoE language
 * model on the Brown Corpus with jax-js (WebGPU when there is a GPU, else wasm).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { writeFileAtomic } from '../../io/atomic.ts';
import { promptWindows, readBrownCorpus, traceSplits } from '../../moe/train/brownCorpus.ts';
import { LM_VOCAB } from '../../moe/train/lmExport.ts';
import { trainLm } from '../../moe/train/trainLm.ts';
import { loadPredictor } from '../../moe/predictor/predictorFile.ts';
import { trainPredictor } from '../../moe/predictor/trainPredictor.ts';
import { examplesFromTrace } from '../../moe/predictor/routeMetrics.ts';
import {
  plotSweep,
  predictRoutes,
  SWEEP_VARIANTS,
  sweepCache,
} from '../../moe/expertflow/cacheSweep.ts';
import { readTrace } from '../../moe/trace.ts';
import { deviceLabel, openDevice } from '../../runtime/device.ts';
import { deviceOption, jsonFlag, parseOptions, positiveInt, UsageError } from '../options.ts';
import { createProgress, printJson } from '../output.ts';

const TrainLmOptions = z.object({
  out: z.string().min(1),
  steps: positiveInt.default(3000),
  batch: positiveInt.default(32),
  context: positiveInt.default(128),
  layers: positiveInt.default(4),
  hidden: positiveInt.default(128),
  heads: positiveInt.default(4),
  kvHeads: positiveInt.default(2),
  experts: positiveInt.default(8),
  topK: positiveInt.default(2),
  intermediate: positiveInt.default(256),
  lr: z.coerce.number().positive().default(3e-3),
  warmup: positiveInt.default(100),
  balance: z.coerce.number().nonnegative().default(0.01),
  seed: z.coerce.number().int().nonnegative().default(0),
  evalEvery: positiveInt.default(100),
  checkpointEvery: positiveInt.default(200),
  maxStepsThisRun: positiveInt.optional(),
  resume: z.boolean().default(false),
  device: deviceOption,
  json: jsonFlag,
});

const PromptsOptions = z.object({
  out: z.string().min(1),
  crossGenre: z.string().default('learned'),
  promptChars: positiveInt.default(64),
  continuationChars: positiveInt.default(64),
  perDocument: positiveInt.default(4),
});

const PredictorOptions = z.object({
  traces: z.string().min(1),
  test: z.array(z.string()).default([]),
  out: z.string().min(1),
  width: positiveInt.default(128),
  layers: positiveInt.default(3),
  heads: positiveInt.default(4),
  ffn: positiveInt.default(512),
  steps: positiveInt.default(2000),
  batch: positiveInt.default(32),
  lr: z.coerce.number().positive().default(2e-3),
  warmup: positiveInt.default(100),
  weightDecay: z.coerce.number().nonnegative().default(0.01),
  seed: z.coerce.number().int().nonnegative().default(0),
  evalEvery: positiveInt.default(250),
  device: deviceOption,
  json: jsonFlag,
});

/** `name=path` or a bare path (named after the file). */
function namedPath(spec: string): { name: string; path: string } {
  const eq = spec.indexOf('=');
  if (eq > 0) return { name: spec.slice(0, eq), path: spec.slice(eq + 1) };
  return { name: spec.replace(/^.*\//, '').replace(/\.h5$/, ''), path: spec };
}

const CacheSimOptions = z.object({
  trace: z.string().min(1),
  predictor: z.string().min(1),
  batch: z.string().default('1,4'),
  slots: z.string().default('1,2,3,4,5,6,7,8'),
  shared: z.boolean().optional(),
  out: z.string().min(1),
  json: jsonFlag,
});

function intList(flag: string, text: string): number[] {
  const values = text.split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1))
    throw new UsageError(`${flag} '${text}' must be comma-separated positive integers, e.g. 1,2,4`);
  return values;
}

export function registerTrain(moe: Command): void {
  moe
    .command('cache-sim')
    .description('replay a routing trace through lru, oracle and ExpertFlow caches at many budgets')
    .requiredOption('--trace <file.h5>', 'routing trace (moe trace)')
    .requiredOption('--predictor <file>', 'predictor.safetensors (moe train-predictor)')
    .option('--batch <list>', 'batch sizes', '1,4')
    .option('--slots <list>', 'GPU expert slots per MoE layer', '1,2,3,4,5,6,7,8')
    .option('--shared', '--slots are sizes of one pool shared by all MoE layers')
    .requiredOption('--out <dir>', 'folder for cache-sim.json and plots')
    .option('--json', 'print the report as JSON')
    .action(async (raw) => {
      const o = parseOptions(CacheSimOptions, raw);
      const batches = intList('--batch', o.batch);
      const slots = intList('--slots', o.slots);
      const data = examplesFromTrace(await readTrace(o.trace));
      const { predictor } = await loadPredictor(o.predictor);
      if (
        predictor.shape.moeLayers !== data.moeLayers ||
        predictor.shape.experts !== data.numExperts
      )
        throw new UsageError(
          `--predictor predicts ${predictor.shape.moeLayers} layers x ${predictor.shape.experts} experts but the trace has ${data.moeLayers} x ${data.numExperts}`,
        );
      const { predicted, msPerToken } = predictRoutes(predictor, data);
      const progress = createProgress(
        'simulating',
        batches.length * slots.length * SWEEP_VARIANTS.length,
      );
      let done = 0;
      const results = sweepCache(data, predicted, batches, slots, o.shared ?? false, () =>
        progress.update(++done),
      );
      progress.stop();
      const report = {
        trace: o.trace.replace(/^.*\//, ''),
        sequences: data.sequences.length,
        predictorMsPerToken: msPerToken,
        results,
      };
      const files = await plotSweep(o.out, report);
      if (o.json) printJson(report);
      else {
        for (const r of results)
          console.error(
            `batch ${r.batch} ${r.sharedSlots === null ? `slots ${r.slotsPerLayer}` : `pool ${r.sharedSlots}`} ${r.label}: hit ${r.hitRatio.toFixed(3)}, copies/step ${(r.loads / r.decodeSteps).toFixed(2)}`,
          );
        console.error(`wrote ${files.join(', ')}`);
      }
    });

  moe
    .command('train-predictor')
    .description('train the ExpertFlow routing-path predictor on routing traces (jax-js)')
    .requiredOption('--traces <file.h5>', 'training trace (moe trace)')
    .option('--test <name=file.h5...>', 'test traces, e.g. in-domain=test.h5 cross-domain=cross.h5')
    .requiredOption('--out <dir>', 'folder for predictor.safetensors and report.json')
    .option('--width <n>', 'model width', '128')
    .option('--layers <n>', 'transformer layers', '3')
    .option('--heads <n>', 'attention heads', '4')
    .option('--ffn <n>', 'feed-forward width', '512')
    .option('--steps <n>', 'optimiser steps', '2000')
    .option('--batch <n>', 'sequences per step', '32')
    .option('--lr <x>', 'peak learning rate', '2e-3')
    .option('--warmup <n>', 'warm-up steps', '100')
    .option('--weight-decay <x>', 'AdamW weight decay', '0.01')
    .option('--seed <n>', 'seed', '0')
    .option('--eval-every <n>', 'evaluate on the first test trace every n steps', '250')
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--json', 'print the report as JSON')
    .action(async (raw) => {
      const o = parseOptions(PredictorOptions, raw);
      if (o.width % o.heads !== 0)
        throw new UsageError(`--width ${o.width} must be a multiple of --heads ${o.heads}`);
      const device = await openDevice({ prefer: o.device as never });
      console.error(`training the predictor on ${deviceLabel(device)}`);
      const progress = createProgress('predictor', o.steps);
      const report = await trainPredictor({
        train: o.traces,
        tests: o.test.map(namedPath),
        out: o.out,
        width: o.width,
        layers: o.layers,
        heads: o.heads,
        ffn: o.ffn,
        config: {
          seed: o.seed,
          batch: o.batch,
          steps: o.steps,
          peakLr: o.lr,
          warmup: o.warmup,
          weightDecay: o.weightDecay,
        },
        evalEvery: o.evalEvery,
        onProgress: (step, info) => progress.update(step, info),
      });
      progress.stop();
      if (o.json) printJson({ ...report, log: undefined, device: deviceLabel(device) });
      else {
        console.error(
          `predictor: ${report.parameters} parameters (${report.megabytes.toFixed(2)} MB f32)`,
        );
        for (const [name, r] of Object.entries(report.results))
          for (const [who, s] of Object.entries(r))
            console.error(
              `${name} ${who}: recall ${Object.entries(s.all.recall)
                .map(([m, v]) => `@${m} ${v.toFixed(3)}`)
                .join(' ')}`,
            );
      }
    });

  moe
    .command('brown-prompts')
    .description('write trace prompts from the Brown Corpus: <out>-{train,test,cross}.jsonl')
    .requiredOption('--out <prefix>', 'file prefix')
    .option('--cross-genre <genre>', 'genre held out for cross-domain tests', 'learned')
    .option('--prompt-chars <n>', 'prompt length', '64')
    .option('--continuation-chars <n>', 'continuation fed after the prompt', '64')
    .option('--per-document <n>', 'windows per document', '4')
    .action(async (raw) => {
      const o = parseOptions(PromptsOptions, raw);
      const splits = traceSplits(await readBrownCorpus(), o.crossGenre);
      for (const [name, docs] of Object.entries(splits)) {
        const rows = promptWindows(docs, o).map((w) => JSON.stringify(w));
        await writeFileAtomic(`${o.out}-${name}.jsonl`, `${rows.join('\n')}\n`);
        console.error(
          `${o.out}-${name}.jsonl: ${rows.length} prompts from ${docs.length} documents`,
        );
      }
    });
  moe
    .command('train-lm')
    .description('train a small Mixtral-layout MoE language model on the Brown Corpus (jax-js)')
    .requiredOption('--out <dir>', 'model folder (training state goes to <dir>/training)')
    .option('--steps <n>', 'optimiser steps', '3000')
    .option('--batch <n>', 'sequences per step', '32')
    .option('--context <n>', 'bytes per sequence', '128')
    .option('--layers <n>', 'decoder layers', '4')
    .option('--hidden <n>', 'model width', '128')
    .option('--heads <n>', 'attention heads', '4')
    .option('--kv-heads <n>', 'key/value heads', '2')
    .option('--experts <n>', 'experts per layer', '8')
    .option('--top-k <n>', 'experts per token', '2')
    .option('--intermediate <n>', 'expert hidden width', '256')
    .option('--lr <x>', 'peak learning rate (cosine decay after warm-up)', '3e-3')
    .option('--warmup <n>', 'warm-up steps', '100')
    .option('--balance <x>', 'load-balancing loss coefficient', '0.01')
    .option('--seed <n>', 'seed (initial weights and batches)', '0')
    .option('--eval-every <n>', 'held-out evaluation interval (steps)', '100')
    .option('--checkpoint-every <n>', 'training-state save interval (steps)', '200')
    .option('--max-steps-this-run <n>', 'stop after this many steps (resume later)')
    .option('--resume', 'continue the run saved in <dir>/training')
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--json', 'print the summary as JSON')
    .action(async (raw) => {
      const o = parseOptions(TrainLmOptions, raw);
      if (o.hidden % o.heads !== 0 || (o.hidden / o.heads) % 2 !== 0)
        throw new UsageError(
          `--hidden ${o.hidden} must split into --heads ${o.heads} heads of even width`,
        );
      if (o.heads % o.kvHeads !== 0)
        throw new UsageError(`--heads ${o.heads} must be a multiple of --kv-heads ${o.kvHeads}`);
      if (o.topK > o.experts)
        throw new UsageError(`--top-k ${o.topK} exceeds --experts ${o.experts}`);
      const device = await openDevice({ prefer: o.device as never });
      console.error(`training on ${deviceLabel(device)}`);
      const progress = createProgress('training', o.steps);
      const summary = await trainLm({
        out: o.out,
        shape: {
          vocab: LM_VOCAB,
          hidden: o.hidden,
          layers: o.layers,
          heads: o.heads,
          kvHeads: o.kvHeads,
          experts: o.experts,
          topK: o.topK,
          intermediate: o.intermediate,
          context: o.context,
          ropeTheta: 10000,
          rmsEps: 1e-5,
        },
        train: {
          seed: o.seed,
          batch: o.batch,
          peakLr: o.lr,
          warmup: o.warmup,
          steps: o.steps,
          balanceCoefficient: o.balance,
        },
        resume: o.resume,
        evalEvery: o.evalEvery,
        evalWindows: 64,
        checkpointEvery: o.checkpointEvery,
        maxStepsThisRun: o.maxStepsThisRun,
        onProgress: (step, info) => progress.update(step, info),
      });
      progress.stop();
      const report = { ...summary, device: deviceLabel(device) };
      if (o.json) printJson(report);
      else
        console.error(
          `${summary.finished ? 'finished' : 'stopped'} at step ${summary.steps}: train ${summary.finalTrainCrossEntropy.toFixed(3)} nats/byte, ` +
            `held-out ${summary.heldOutBitsPerByte?.toFixed(3) ?? '-'} bits/byte, ${summary.tokensPerSecond.toFixed(0)} tokens/s; ` +
            (summary.finished ? `model in ${o.out}` : `resume with --resume`),
        );
    });
}
