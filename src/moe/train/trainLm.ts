/**
 * `driftflow moe train-lm`: trains the MoE language model on the Brown Corpus and saves it as a
 * Mixtral checkpoint. The run keeps its training state (parameters, Adam moments, step, loss log) in
 * `<out>/training/`, written atomically every `--checkpoint-every` steps, so `--resume` continues a
 * killed run with the same batches; a non-finite loss stops the run with the last good state kept.
 * The loss curve (train and held-out) is written as JSON and as a PNG/SVG plot.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.ts';
import { loadTrainingState, saveTrainingState, stateFile } from '../../nn/trainingState.ts';
import { writePlot } from '../../plots/render.ts';
import { linePlotSvg } from '../../plots/svg.ts';
import { type BrownDocument, readBrownCorpus, splitDocuments } from './brownCorpus.ts';
import { DOCUMENT_SEPARATOR, writeLmModel } from './lmExport.ts';
import { type LmShape, parameterShapes } from './lmModel.ts';
import { createLmTrainer, type LmTrainConfig } from './lmTrainer.ts';

export interface TrainLmOptions {
  out: string;
  shape: LmShape;
  train: LmTrainConfig;
  resume: boolean;
  evalEvery: number;
  evalWindows: number;
  checkpointEvery: number;
  /** Stop after this many steps in this call (the run can be resumed); default: all. */
  maxStepsThisRun?: number;
  onProgress?: (step: number, info: string) => void;
}

export interface LossPoint {
  step: number;
  loss: number;
  crossEntropy: number;
  balance: number;
  gradNorm: number;
  /** Held-out cross-entropy (nats per byte), on evaluation steps only. */
  heldOut?: number;
  seconds: number;
}

export interface TrainLmSummary {
  steps: number;
  finished: boolean;
  tokensPerSecond: number;
  finalTrainCrossEntropy: number;
  finalHeldOutCrossEntropy: number | null;
  heldOutBitsPerByte: number | null;
  out: string;
}

/** One token stream: each document's UTF-8 bytes followed by the separator token. */
export function tokenStream(docs: BrownDocument[]): Int32Array {
  const parts = docs.map((d) => Buffer.from(d.text, 'utf8'));
  const out = new Int32Array(parts.reduce((a, p) => a + p.length + 1, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
    out[at++] = DOCUMENT_SEPARATOR;
  }
  return out;
}

async function plotLoss(out: string, log: LossPoint[]): Promise<void> {
  const held = log.filter((p) => p.heldOut !== undefined);
  const svg = linePlotSvg(
    [
      {
        label: 'train cross-entropy',
        x: log.map((p) => p.step + 1),
        y: log.map((p) => p.crossEntropy),
      },
      { label: 'held-out', x: held.map((p) => p.step + 1), y: held.map((p) => p.heldOut!) },
    ],
    { title: 'MoE LM on the Brown Corpus', xLabel: 'step', yLabel: 'nats per byte', logY: true },
  );
  await writePlot(join(out, 'training', 'loss'), svg);
}

export async function trainLm(o: TrainLmOptions): Promise<TrainLmSummary> {
  const { train, heldOut } = splitDocuments(await readBrownCorpus());
  const trainStream = tokenStream(train);
  const heldStream = tokenStream(heldOut);
  await mkdir(join(o.out, 'training'), { recursive: true });
  const trainer = createLmTrainer(o.shape, o.train);
  const shapes = parameterShapes(o.shape);
  const settings = JSON.stringify({ shape: o.shape, train: o.train });
  let start = 0;
  let log: LossPoint[] = [];
  const saved = await loadTrainingState<LossPoint>(
    o.out,
    shapes,
    ['p', 'm', 'v'],
    settings,
    o.resume,
  );
  if (saved) {
    const r = saved.records;
    trainer.restore({ params: r.p!, m: r.m!, v: r.v! });
    start = saved.step;
    log = saved.log;
  }
  const save = async (step: number) => {
    const s = await trainer.snapshot();
    await saveTrainingState(o.out, shapes, { p: s.params, m: s.m, v: s.v }, settings, step, log);
  };
  const last = Math.min(o.train.steps, start + (o.maxStepsThisRun ?? Infinity));
  const t0 = performance.now();
  const previousSeconds = log.at(-1)?.seconds ?? 0;
  let step = start;
  let lastSaved = start;
  try {
    for (; step < last; step++) {
      const stats = await trainer.step(trainStream, step).read();
      if (!Number.isFinite(stats.loss))
        throw new Error(
          `loss became ${stats.loss} at step ${step}: stopped; the last good state (step ` +
            `${lastSaved}) is kept in ${stateFile(o.out)}; lower --lr and --resume`,
        );
      const point: LossPoint = {
        ...stats,
        step,
        seconds: previousSeconds + (performance.now() - t0) / 1000,
      };
      if ((step + 1) % o.evalEvery === 0 || step + 1 === o.train.steps)
        point.heldOut = await trainer.evaluate(heldStream, o.evalWindows);
      log.push(point);
      o.onProgress?.(
        step + 1,
        `loss ${stats.crossEntropy.toFixed(3)}${point.heldOut ? ` held-out ${point.heldOut.toFixed(3)}` : ''}`,
      );
      if ((step + 1) % o.checkpointEvery === 0 || step + 1 === last) {
        await save(step + 1);
        lastSaved = step + 1;
      }
    }
    const finished = step >= o.train.steps;
    if (finished) await writeLmModel(o.out, o.shape, (await trainer.snapshot()).params);
    await plotLoss(o.out, log);
    const heldPoints = log.filter((p) => p.heldOut !== undefined);
    const finalHeld = heldPoints.at(-1)?.heldOut ?? null;
    const runSeconds = (performance.now() - t0) / 1000;
    const summary: TrainLmSummary = {
      steps: step,
      finished,
      tokensPerSecond: ((step - start) * o.train.batch * o.shape.context) / runSeconds,
      finalTrainCrossEntropy: log.at(-1)?.crossEntropy ?? NaN,
      finalHeldOutCrossEntropy: finalHeld,
      heldOutBitsPerByte: finalHeld === null ? null : finalHeld / Math.LN2,
      out: o.out,
    };
    await writeFileAtomic(
      join(o.out, 'training', 'summary.json'),
      JSON.stringify(summary, null, 2),
    );
    return summary;
  } finally {
    trainer.dispose();
  }
}
