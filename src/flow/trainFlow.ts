/**
 * `driftflow flow train`: trains the FNO velocity field of FOT-CFM on one resolution of a `flow
 * dataset` file. Each step draws a minibatch of data fields (standardised per channel), a
 * minibatch of noise from the Gaussian measure, pairs them (exact minibatch OT under the L² norm,
 * or independently), and takes one jitted flow-matching step. The run keeps its state (weights,
 * Adam moments, EMA, step, loss log) in `<out>/training/`, saved atomically every
 * `checkpointEvery` steps, so `--resume` continues with the same batches; a non-finite loss stops
 * it with the last good state kept. The model (EMA weights) goes to `<out>/fno.safetensors` with
 * everything sampling needs in its metadata. `objective: 'ddpm'` trains the grid-diffusion baseline
 * with the same network and loop instead (white noise on the training grid, no pairing).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readH5 } from '../io/hdf5.ts';
import { SafetensorsFile } from '../io/safetensors.ts';
import {
  loadTrainingState,
  readRecords,
  saveTrainingState,
  stateFile,
  writeRecords,
} from '../nn/trainingState.ts';
import { writePlot } from '../plots/render.ts';
import { linePlotSvg } from '../plots/svg.ts';
import { uniformGenerator, whiteNoise } from '../spectral/random.ts';
import { l2CostMatrix, solveAssignment } from './assignment.ts';
import { type Objective, pathCoefficients } from './diffusion.ts';
import { fnoParameterShapes, type FnoShape } from './fno.ts';
import { createFlowTrainer, type FlowTrainConfig } from './flowTrainer.ts';
import { type NoiseMeasure, sampleNoise } from './noise.ts';
import { fitNoiseMeasure } from './noiseFit.ts';
import { shellLossWeights } from './shellLossWeights.ts';

export interface FlowModelMeta {
  shape: FnoShape;
  /** One measure for every channel, or one per channel (--noise-fit). */
  noise: NoiseMeasure | NoiseMeasure[];
  /** Per-channel mean and std of the training data (samples are mapped back with them). */
  mean: number[];
  std: number[];
  trainSize: number;
  fields: string;
  /** 'flow' (absent in older files) or the 'ddpm' baseline. */
  objective?: Objective;
  /** DDPM: per-channel [min, max] of the standardised training data (the sampler clips x0 to it). */
  range?: [number, number][];
}

export interface TrainFlowOptions {
  data: string;
  size: number;
  out: string;
  shape: Omit<FnoShape, 'channels'>;
  /** The noise measure, or 'fit' to fit τ and α to the training fields (noiseFit.ts). */
  noise: NoiseMeasure | 'fit';
  coupling: 'ot' | 'independent';
  /** Flow matching (default) or the DDPM baseline (which pairs nothing: coupling is ignored). */
  objective?: Objective;
  train: FlowTrainConfig;
  /** 'shell': the loss in Fourier space, shells weighted by shellLossWeights.ts (default none). */
  lossWeighting?: 'none' | 'shell';
  resume: boolean;
  checkpointEvery: number;
  maxStepsThisRun?: number;
  onProgress?: (step: number, info: string) => void;
}

export interface TrainFlowSummary {
  steps: number;
  finished: boolean;
  finalLoss: number;
  samplesPerSecond: number;
  /** The noise measure trained with (the fitted ones, per channel, with --noise-fit). */
  noise: NoiseMeasure | NoiseMeasure[];
  out: string;
}

/** Training fields [count, n, n, C] of one size, standardised per channel. */
export async function readTrainingFields(path: string, size: number) {
  const file = await readH5(path);
  try {
    if (!file.paths.includes(`/train/${size}`)) {
      const sizes = file.paths.filter((p) => p.startsWith('/train/')).map((p) => p.slice(7));
      throw new Error(
        `${path} has no ${size}² training fields (it has ${sizes.join(', ') || 'none'})`,
      );
    }
    const d = file.get(`/train/${size}`);
    const [count, , , channels] = d.shape as [number, number, number, number];
    const data = Float32Array.from(d.data);
    const mean: number[] = [];
    const std: number[] = [];
    for (let c = 0; c < channels; c++) {
      let s = 0;
      let q = 0;
      for (let i = c; i < data.length; i += channels) {
        s += data[i]!;
        q += data[i]! * data[i]!;
      }
      const m = s / (data.length / channels);
      mean.push(m);
      std.push(Math.sqrt(Math.max(q / (data.length / channels) - m * m, 1e-12)));
    }
    const range = Array.from({ length: channels }, (): [number, number] => [Infinity, -Infinity]);
    for (let i = 0; i < data.length; i++) {
      const v = (data[i]! - mean[i % channels]!) / std[i % channels]!;
      data[i] = v;
      const r = range[i % channels]!;
      r[0] = Math.min(r[0], v);
      r[1] = Math.max(r[1], v);
    }
    return { data, count, channels, mean, std, range, fields: String(file.attrs.fields ?? '') };
  } finally {
    file.close();
  }
}

export async function loadFlowModel(path: string) {
  const file = await SafetensorsFile.open(path);
  const text = file.metadata?.flow;
  await file.close();
  if (!text) throw new Error(`${path} is not a driftflow flow model (no 'flow' metadata)`);
  const meta = JSON.parse(text) as FlowModelMeta;
  const { records } = await readRecords(path, fnoParameterShapes(meta.shape), ['']);
  return { meta, values: records['']! };
}

export async function trainFlow(o: TrainFlowOptions): Promise<TrainFlowSummary> {
  const data = await readTrainingFields(o.data, o.size);
  const objective = o.objective ?? 'flow';
  if (objective === 'ddpm' && o.train.sigmaMin > 0)
    throw new Error('sigma_min widens flow-matching paths: the DDPM objective takes none');
  const shape: FnoShape = { ...o.shape, channels: data.channels };
  const noise: NoiseMeasure | NoiseMeasure[] =
    o.noise === 'fit'
      ? fitNoiseMeasure(data.data, data.count, o.size, data.channels).map(({ tau, alpha }) => ({
          tau,
          alpha,
        }))
      : o.noise;
  const meta: FlowModelMeta = {
    shape,
    noise,
    mean: data.mean,
    std: data.std,
    trainSize: o.size,
    fields: data.fields,
    objective,
    ...(objective === 'ddpm' ? { range: data.range } : {}),
  };
  const coupling = objective === 'ddpm' ? 'none' : o.coupling;
  const lossWeighting = o.lossWeighting ?? 'none';
  const settings = JSON.stringify({
    meta,
    coupling,
    train: o.train,
    data: o.data,
    ...(lossWeighting === 'none' ? {} : { lossWeighting }),
  });
  await mkdir(join(o.out, 'training'), { recursive: true });
  const lossWeights =
    lossWeighting === 'shell'
      ? shellLossWeights(
          data.data,
          data.count,
          sampleNoise(noise, o.size, 64, data.channels, o.train.seed + 17),
          64,
          o.size,
          data.channels,
          shape.modes,
        )
      : undefined;
  const trainer = createFlowTrainer(shape, { ...o.train, ...(lossWeights ? { lossWeights } : {}) });
  const shapes = fnoParameterShapes(shape);
  let start = 0;
  let log: { step: number; loss: number }[] = [];
  const saved = await loadTrainingState<{ step: number; loss: number }>(
    o.out,
    shapes,
    ['p', 'm', 'v', 'e'],
    settings,
    o.resume,
  );
  if (saved) {
    const r = saved.records;
    trainer.restore({ params: r.p!, m: r.m!, v: r.v!, ema: r.e! });
    start = saved.step;
    log = saved.log;
  }
  const save = async (step: number) => {
    const s = await trainer.snapshot();
    await saveTrainingState(
      o.out,
      shapes,
      { p: s.params, m: s.m, v: s.v, e: s.ema },
      settings,
      step,
      log,
    );
  };
  const b = o.train.batch;
  const points = o.size * o.size * data.channels;
  const last = Math.min(o.train.steps, start + (o.maxStepsThisRun ?? Infinity));
  const t0 = performance.now();
  let step = start;
  let lastSaved = start;
  try {
    for (; step < last; step++) {
      // Everything random depends only on (seed, step): a resumed run draws the same batches.
      const uniform = uniformGenerator(o.train.seed * 1_000_003 + step);
      const picks = Array.from({ length: b }, () => Math.floor(uniform() * data.count));
      const x1 = new Float32Array(b * points);
      picks.forEach((s, i) => x1.set(data.data.subarray(s * points, (s + 1) * points), i * points));
      const noiseSeed = o.train.seed * 7919 + step;
      const x0 =
        objective === 'ddpm'
          ? Float32Array.from(whiteNoise(b * points, noiseSeed))
          : sampleNoise(noise, o.size, b, data.channels, noiseSeed);
      let paired = x1;
      if (coupling === 'ot') {
        const match = solveAssignment(l2CostMatrix(x0, x1, b, points), b);
        paired = new Float32Array(b * points);
        match.forEach((j, i) => paired.set(x1.subarray(j * points, (j + 1) * points), i * points));
      }
      const { mix, time: t } = pathCoefficients(
        objective,
        Float32Array.from({ length: b }, () => uniform()),
      );
      // sigma_min widens the path with a draw of the same Gaussian measure (white noise is not in L²).
      const eps =
        o.train.sigmaMin > 0
          ? sampleNoise(noise, o.size, b, data.channels, o.train.seed * 7919 + step + 1_000_003)
          : undefined;
      const loss = await trainer.step(
        { x0, x1: paired, t, mix, size: o.size, ...(eps ? { eps } : {}) },
        step,
      ).loss;
      if (!Number.isFinite(loss))
        throw new Error(
          `flow-matching loss became ${loss} at step ${step}: stopped; the last good state (step ${lastSaved}) is kept in ${stateFile(o.out)}; lower --lr and --resume`,
        );
      log.push({ step, loss });
      o.onProgress?.(step + 1, `loss ${loss.toFixed(4)}`);
      if ((step + 1) % o.checkpointEvery === 0 || step + 1 === last) {
        await save(step + 1);
        lastSaved = step + 1;
      }
    }
    const finished = step >= o.train.steps;
    if (finished) {
      const s = await trainer.snapshot();
      await writeRecords(
        join(o.out, 'fno.safetensors'),
        shapes,
        { '': o.train.emaDecay ? s.ema : s.params },
        { flow: JSON.stringify(meta) },
      );
    }
    const svg = linePlotSvg(
      [{ label: 'flow-matching loss', x: log.map((p) => p.step + 1), y: log.map((p) => p.loss) }],
      {
        title:
          objective === 'ddpm'
            ? `DDPM baseline training (${o.size}²)`
            : `FOT-CFM training (${o.coupling} coupling, ${o.size}²)`,
        xLabel: 'step',
        yLabel: 'loss',
        logY: true,
      },
    );
    await writePlot(join(o.out, 'training', 'loss'), svg);
    const seconds = (performance.now() - t0) / 1000;
    return {
      steps: step,
      finished,
      finalLoss: log.at(-1)?.loss ?? NaN,
      samplesPerSecond: ((step - start) * b) / seconds,
      noise,
      out: o.out,
    };
  } finally {
    trainer.dispose();
  }
}
