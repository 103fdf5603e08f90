/**
 * The run loop shared by every solver command: advance in chunks on the device, append the sampled
 * diagnostics, write snapshots (real-space fields + spectra), publish the output file at checkpoints,
 * stop cleanly on a blow-up, resume a killed run exactly from its last checkpoint.
 *
 * The output file is always a complete HDF5 file as of the last checkpoint (the loop writes a
 * temporary copy and publishes it atomically), and it holds the spectral state of that checkpoint,
 * so `--resume` continues bit-for-bit where the killed run would have been.
 *
 * A chunk's file output (time series, snapshot) is written while the device runs the next chunk:
 * on the GPU the writes (h5wasm appends, milliseconds a snapshot) then cost no stepping time. The
 * order of writes is unchanged, and a checkpoint first flushes everything before it.
 */
import type { H5Writer } from '../io/hdf5.ts';
import type { SpectralGrid } from '../spectral/grid.ts';
import { Transforms2d } from '../spectral/transforms2d.ts';
import type { SimulationConfig } from './config.ts';
import { diagnose, quantityNames } from './diagnostics.ts';
import { fieldNames, type ModelParams, potentialOf } from './model.ts';
import type { Stepper } from './stepper.ts';

/** Host bytes of captured snapshot states one chunk may hold. */
const CAPTURE_BYTES = 64 << 20;

export class BlowUpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlowUpError';
  }
}

export interface RunStart {
  step: number;
  /** Diagnostic history already in the file (resume), as time + one array per quantity. */
  history: { time: number[]; values: Record<string, number[]> };
  /** Wall seconds already spent reaching `step` (earlier sessions of a resumed run). */
  wallSeconds: number;
}

export interface RunOptions {
  config: SimulationConfig;
  grid: SpectralGrid;
  stepper: Stepper;
  writer: H5Writer | null;
  start: RunStart;
  statsFrom: number;
  checkpointEverySeconds: number;
  onProgress?: (step: number, total: number, info: string) => void;
}

export interface RunSummary {
  steps: number;
  time: number;
  /** Wall seconds of this invocation (`totalWallSeconds` adds those of earlier sessions). */
  wallSeconds: number;
  totalWallSeconds: number;
  stepsPerSecond: number;
  device: string;
  statsFrom: number;
  samplesAveraged: number;
  averages: Record<string, number>;
  final: Record<string, number>;
}

/** Real-space output fields: HW n, φ, Ω; NS ω, ψ. */
export function realFields(
  model: ModelParams,
  transforms: Transforms2d,
  state: Float64Array[],
  phi: Float64Array,
): Record<string, Float32Array> {
  const toReal = (spec: Float64Array) => {
    const real = transforms.newReal();
    transforms.inverse(spec, real);
    return Float32Array.from(real);
  };
  return model.kind === 'hw'
    ? { n: toReal(state[0]!), phi: toReal(phi), omega: toReal(state[1]!) }
    : { omega: toReal(state[0]!), psi: toReal(phi) };
}

function writeSnapshot(
  writer: H5Writer,
  config: SimulationConfig,
  grid: SpectralGrid,
  transforms: Transforms2d,
  state: Float64Array[],
  time: number,
): void {
  const phi = potentialOf(config.model, grid, state);
  for (const [name, field] of Object.entries(realFields(config.model, transforms, state, phi)))
    writer.appendFrame(`/fields/${name}`, field, [grid.ny, grid.nx]);
  writer.appendValues('/fields/time', Float64Array.of(time));
  const diagnostics = diagnose(config.model, grid, state, phi);
  if (!writer.has('/spectra/ky')) {
    writer.writeDataset('/spectra/ky', {
      data: Float64Array.from(diagnostics.ky),
      shape: [diagnostics.ky.length],
    });
    writer.writeDataset('/spectra/k', {
      data: Float64Array.from(diagnostics.shells),
      shape: [diagnostics.shells.length],
    });
  }
  for (const name of diagnostics.names) {
    const ky = diagnostics.kySpectra[name]!;
    const shell = diagnostics.shellSpectra[name]!;
    writer.appendFrame(`/spectra/ky_${name}`, ky, [ky.length]);
    writer.appendFrame(`/spectra/shell_${name}`, shell, [shell.length]);
  }
}

function writeCheckpoint(
  writer: H5Writer,
  config: SimulationConfig,
  grid: SpectralGrid,
  state: Float64Array[],
  step: number,
): void {
  fieldNames(config.model).forEach((name, i) =>
    writer.writeFixed(`/checkpoint/${name}`, state[i]!, [grid.ny, grid.ncols, 2]),
  );
  writer.writeFixed('/checkpoint/clock', Float64Array.of(step * config.dt, step), [2]);
}

function firstNonFinite(
  samples: Float64Array,
  names: readonly string[],
): { sample: number; name: string } | null {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i]!))
      return { sample: Math.floor(i / names.length), name: names[i % names.length]! };
  }
  return null;
}

/** Runs the simulation to its end time (see the header); returns the summary. */
export async function runSimulation(options: RunOptions): Promise<RunSummary> {
  const { config, grid, stepper, writer, statsFrom } = options;
  const names = quantityNames(config.model);
  const transforms = new Transforms2d(grid);
  const total = Math.round(config.tEnd / config.dt);
  const diagEvery = config.diagEvery;
  const saveEvery =
    config.saveEvery > 0
      ? Math.max(diagEvery, Math.round(config.saveEvery / config.dt / diagEvery) * diagEvery)
      : 0;
  const history = options.start.history;
  let step = options.start.step;
  if (writer && step === 0) {
    // A fresh run publishes its initial state at once, so a blow-up always leaves a checkpoint.
    const state = await stepper.getState();
    if (saveEvery > 0) writeSnapshot(writer, config, grid, transforms, state, 0);
    writeCheckpoint(writer, config, grid, state, 0);
    await writer.checkpoint();
  }

  const started = performance.now();
  let lastCheckpoint = started;
  let chunk = diagEvery;
  let stepsDone = 0;
  // File output of the last chunk, written once the next chunk is under way.
  let pending: (() => void)[] = [];
  const flush = () => {
    for (const write of pending) write();
    pending = [];
  };
  // Snapshots inside a chunk are captured on the device on the way, so a chunk spans many of
  // them (a 64² run's snapshot every 100 steps once cost a round trip each); their host copies
  // are bounded by CAPTURE_BYTES.
  const stateBytes = 16 * grid.spectralSize * fieldNames(config.model).length;
  const maxCaptures = Math.max(1, Math.floor(CAPTURE_BYTES / stateBytes));
  while (step < total) {
    let n = Math.min(chunk, total - step);
    const saves: number[] = [];
    if (writer && saveEvery > 0)
      for (let at = (Math.floor(step / saveEvery) + 1) * saveEvery; at <= step + n; at += saveEvery)
        saves.push(at - step);
    if (saves.length > maxCaptures) {
      saves.length = maxCaptures;
      n = saves.at(-1)!;
    }
    const chunkStarted = performance.now();
    const advancing = stepper.advanceCapturing(n, diagEvery, saves);
    flush();
    const { samples, states } = await advancing;
    // Aim for chunks of ~0.5 s so progress and checkpoints stay responsive.
    const seconds = (performance.now() - chunkStarted) / 1000;
    if (2 * n >= chunk)
      chunk = Math.max(
        diagEvery,
        Math.min(
          chunk * 4,
          Math.round((n * 0.5) / Math.max(seconds, 1e-3) / diagEvery) * diagEvery,
        ),
      );
    const bad = firstNonFinite(samples, names);
    if (bad) {
      const badTime = (step + (bad.sample + 1) * diagEvery) * config.dt;
      await writer?.abort();
      throw new BlowUpError(
        `the solution blew up: ${bad.name} is not finite at t = ${badTime.toFixed(4)} (step ${step + (bad.sample + 1) * diagEvery}).` +
          (writer
            ? ` ${writer.target} keeps the last good checkpoint; resume from it with a smaller --dt.`
            : '') +
          ' Try a smaller --dt (advective CFL) or more dissipation.',
      );
    }
    const count = samples.length / names.length;
    const times = Float64Array.from(
      { length: count },
      (_, i) => (step + (i + 1) * diagEvery) * config.dt,
    );
    history.time.push(...times);
    names.forEach((name, q) => {
      const column = Float64Array.from({ length: count }, (_, i) => samples[i * names.length + q]!);
      (history.values[name] ??= []).push(...column);
      if (writer) pending.push(() => writer.appendValues(`/timeseries/${name}`, column));
    });
    if (writer) pending.push(() => writer.appendValues('/timeseries/time', times));
    saves.forEach((at, i) => {
      const time = (step + at) * config.dt;
      pending.push(() => writeSnapshot(writer!, config, grid, transforms, states[i]!, time));
    });
    step += n;
    stepsDone += n;
    const due =
      writer &&
      (step === total ||
        performance.now() - lastCheckpoint > options.checkpointEverySeconds * 1000);
    if (writer && due) {
      const state = saves.at(-1) === n ? states.at(-1)! : await stepper.getState();
      flush();
      writeCheckpoint(writer, config, grid, state, step);
      writer.setAttributes('/', {
        wall_seconds: options.start.wallSeconds + (performance.now() - started) / 1000,
      });
      await writer.checkpoint();
      lastCheckpoint = performance.now();
    }
    // Runs shorter than --diag-every have no samples yet.
    const latest = names
      .slice(0, 4)
      .flatMap((nm) => history.values[nm]?.slice(-1).map((v) => `${nm}=${v.toPrecision(4)}`) ?? []);
    options.onProgress?.(step, total, `t=${(step * config.dt).toFixed(2)} ${latest.join(' ')}`);
  }
  flush();
  const wallSeconds = (performance.now() - started) / 1000;
  if (writer) await writer.commit();
  const averages: Record<string, number> = {};
  const final: Record<string, number> = {};
  const selected = history.time.map((t, i) => (t >= statsFrom ? i : -1)).filter((i) => i >= 0);
  for (const name of names) {
    const values = history.values[name] ?? [];
    averages[name] = selected.length
      ? selected.reduce((sum, i) => sum + values[i]!, 0) / selected.length
      : NaN;
    final[name] = values.at(-1) ?? NaN;
  }
  if (config.model.kind === 'hw') {
    averages.energy = averages.energy_n! + averages.energy_v!;
    final.energy = final.energy_n! + final.energy_v!;
  }
  return {
    steps: step,
    time: step * config.dt,
    wallSeconds,
    totalWallSeconds: options.start.wallSeconds + wallSeconds,
    stepsPerSecond: stepsDone / wallSeconds,
    device: stepper.deviceLabel,
    statsFrom,
    samplesAveraged: selected.length,
    averages,
    final,
  };
}
