/**
 * `driftflow moe train-predictor`: trains the routing-path predictor on a training trace and reports
 * per-layer recall/precision of the true top-k sets at k, 1.5k and 2k on an in-domain test trace
 * and a cross-domain trace, next to the frequency and token-table baselines. Saves the predictor as
 * `predictor.safetensors` (F32, shape and trace facts in its metadata) plus `report.json`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.ts';
import { readTrace } from '../trace.ts';
import { RoutePredictor } from './predictorInfer.ts';
import type { PredictorShape } from './predictorModel.ts';
import { savePredictor } from './predictorFile.ts';
import { createPredictorTrainer, type PredictorTrainConfig } from './predictorTrainer.ts';
import {
  examplesFromTrace,
  frequencyScorer,
  type RouteExamples,
  type RouteScore,
  scoreRoutes,
  tokenTableScorer,
} from './routeMetrics.ts';

export interface TrainPredictorOptions {
  train: string;
  tests: { name: string; path: string }[];
  out: string;
  width: number;
  layers: number;
  heads: number;
  ffn: number;
  vocab?: number;
  config: PredictorTrainConfig;
  evalEvery: number;
  onProgress?: (step: number, info: string) => void;
}

export interface PredictorReport {
  parameters: number;
  megabytes: number;
  shape: PredictorShape;
  train: { sequences: number; tokens: number; finalLoss: number; seconds: number };
  log: { step: number; loss: number; testRecallAtK?: number }[];
  /** Per test set: learned predictor and baselines, over all tokens and decode tokens only. */
  results: Record<
    string,
    Record<'predictor' | 'tokenTable' | 'frequency', Record<'all' | 'decode', RouteScore>>
  >;
}

const sequenceTokens = (d: RouteExamples) => d.sequences.reduce((a, s) => a + s.tokens.length, 0);
const maxTokenId = (d: RouteExamples) =>
  d.sequences.reduce((a, s) => s.tokens.reduce((b, t) => Math.max(b, t), a), 0);

export async function trainPredictor(o: TrainPredictorOptions): Promise<PredictorReport> {
  const train = examplesFromTrace(await readTrace(o.train));
  const tests = await Promise.all(
    o.tests.map(async (t) => ({ name: t.name, data: examplesFromTrace(await readTrace(t.path)) })),
  );
  for (const t of tests)
    if (t.data.moeLayers !== train.moeLayers || t.data.numExperts !== train.numExperts)
      throw new Error(`trace ${t.name} has another model's routing shape than the training trace`);
  const all = [train, ...tests.map((t) => t.data)];
  const longest = Math.max(...all.flatMap((d) => d.sequences.map((s) => s.tokens.length)));
  const shape: PredictorShape = {
    vocab: o.vocab ?? Math.max(...all.map(maxTokenId)) + 1,
    width: o.width,
    layers: o.layers,
    heads: o.heads,
    ffn: o.ffn,
    maxPositions: longest,
    moeLayers: train.moeLayers,
    experts: train.numExperts,
  };
  const trainer = createPredictorTrainer(shape, o.config);
  const log: PredictorReport['log'] = [];
  const t0 = performance.now();
  const firstTest = tests[0];
  try {
    let loss = NaN;
    for (let step = 0; step < o.config.steps; step++) {
      loss = await trainer.step(train, step, longest);
      if (!Number.isFinite(loss))
        throw new Error(`predictor loss became ${loss} at step ${step}: lower --lr`);
      const point: PredictorReport['log'][number] = { step, loss };
      if (firstTest && ((step + 1) % o.evalEvery === 0 || step + 1 === o.config.steps)) {
        const probs = await trainer.predictAll(firstTest.data, longest);
        point.testRecallAtK = scoreRoutes(firstTest.data, (s) => probs[s]!).recall[train.topK]!;
      }
      log.push(point);
      o.onProgress?.(
        step + 1,
        `loss ${loss.toFixed(4)}${point.testRecallAtK === undefined ? '' : ` ${firstTest!.name} recall@k ${point.testRecallAtK.toFixed(3)}`}`,
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    const values = await trainer.values();
    const predictor = new RoutePredictor(shape, values);
    const results: PredictorReport['results'] = {};
    for (const t of tests) {
      const probs = await trainer.predictAll(t.data, longest);
      const scorers = {
        predictor: (s: number) => probs[s]!,
        tokenTable: tokenTableScorer(train, t.data),
        frequency: frequencyScorer(train, t.data),
      };
      results[t.name] = Object.fromEntries(
        Object.entries(scorers).map(([name, scorer]) => [
          name,
          {
            all: scoreRoutes(t.data, scorer, 'all'),
            decode: scoreRoutes(t.data, scorer, 'decode'),
          },
        ]),
      ) as PredictorReport['results'][string];
    }
    await mkdir(o.out, { recursive: true });
    await savePredictor(join(o.out, 'predictor.safetensors'), shape, values, train.topK);
    const report: PredictorReport = {
      parameters: predictor.parameters,
      megabytes: (predictor.parameters * 4) / 1e6,
      shape,
      train: {
        sequences: train.sequences.length,
        tokens: sequenceTokens(train),
        finalLoss: loss,
        seconds,
      },
      log,
      results,
    };
    await writeFileAtomic(join(o.out, 'report.json'), JSON.stringify(report, null, 2));
    return report;
  } finally {
    trainer.dispose();
  }
}
