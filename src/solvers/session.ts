/**
 * Sets up a run from a config or from a file to resume: picks the stepper for the device, draws or
 * loads the initial state, opens the output, and returns everything `runSimulation` needs. All
 * parameters go into the output's root attributes (flat, for h5py users, plus the full config as
 * JSON, which `--resume` reads back).
 */
import { H5Writer, readH5 } from '../io/hdf5.ts';
import type { ComputeDevice } from '../runtime/device.ts';
import type { SpectralGrid } from '../spectral/grid.ts';
import { InvalidConfigError, type SimulationConfig, validateConfig } from './config.ts';
import { quantityNames } from './diagnostics.ts';
import { GpuStepper } from './gpuStepper.ts';
import { initialState } from './initial.ts';
import { fieldNames } from './model.ts';
import type { RunStart } from './run.ts';
import { ArakawaStepper } from './arakawa.ts';
import { defaultThreads } from './bracketWorkers.ts';
import { CpuStepper, type Stepper } from './stepper.ts';

export async function createStepper(
  device: ComputeDevice,
  grid: SpectralGrid,
  config: SimulationConfig,
  threads = defaultThreads(grid),
): Promise<Stepper> {
  if (config.scheme === 'arakawa') {
    if (config.model.kind !== 'hw' || config.integrator !== 'rk4')
      throw new InvalidConfigError(
        "--scheme arakawa is hw2d's Hasegawa-Wakatani scheme: use it with `hw run` and --integrator rk4",
      );
    // hw2d's scheme is a CPU float64 reference: it runs there whatever the device.
    return new ArakawaStepper(grid, config.model, config.dt);
  }
  const precision = config.precision ?? 'f32';
  if (device.kind === 'webgpu') {
    if (precision === 'f64')
      throw new InvalidConfigError('--precision f64 runs on the CPU only: add --device wasm');
    return GpuStepper.create(device, grid, config);
  }
  return CpuStepper.create(grid, config.model, config.dt, config.integrator, precision, threads);
}

export function configAttributes(config: SimulationConfig, extra: Record<string, string>) {
  const flat: Record<string, number | string> = {};
  for (const [key, value] of Object.entries({ ...config, ...config.model })) {
    if (typeof value === 'number' || typeof value === 'string') flat[key] = value;
    if (typeof value === 'boolean') flat[key] = Number(value);
  }
  return { ...flat, ...extra, config_json: JSON.stringify(config) };
}

export interface PreparedRun {
  config: SimulationConfig;
  grid: SpectralGrid;
  stepper: Stepper;
  writer: H5Writer | null;
  start: RunStart;
}

/** A fresh run: validated config, seeded initial state on the device, new output file. */
export async function prepareFresh(
  config: SimulationConfig,
  device: ComputeDevice,
  out: string | null,
  extraAttrs: Record<string, string>,
  threads?: number,
): Promise<PreparedRun> {
  const grid = validateConfig(config);
  const stepper = await createStepper(device, grid, config, threads);
  await stepper.setState(
    initialState(config.model, grid, config.init, config.initAmplitude, config.seed),
  );
  const writer = out ? await H5Writer.create(out, configAttributes(config, extraAttrs)) : null;
  return {
    config,
    grid,
    stepper,
    writer,
    start: { step: 0, history: { time: [], values: {} }, wallSeconds: 0 },
  };
}

/**
 * Continues the run in `file` from its last checkpoint, optionally to a later end time and with
 * another snapshot interval from the checkpoint on (e.g. dense snapshots of a stationary window).
 */
export async function prepareResume(
  file: string,
  device: ComputeDevice,
  overrides: { tEnd?: number; saveEvery?: number } = {},
  threads?: number,
): Promise<PreparedRun> {
  const stored = await readH5(file).catch((error: Error) => {
    throw new InvalidConfigError(`cannot resume from ${file}: ${error.message}`);
  });
  let closed = false;
  try {
    const json = stored.attrs.config_json;
    if (typeof json !== 'string')
      throw new InvalidConfigError(
        `cannot resume from ${file}: it has no config_json attribute (not a driftflow run)`,
      );
    const config = JSON.parse(json) as SimulationConfig;
    if (overrides.tEnd !== undefined) config.tEnd = overrides.tEnd;
    if (overrides.saveEvery !== undefined) config.saveEvery = overrides.saveEvery;
    const grid = validateConfig(config);
    const clock = stored.get('/checkpoint/clock').data;
    const step = clock[1]!;
    const state = fieldNames(config.model).map((name) =>
      Float64Array.from(stored.get(`/checkpoint/${name}`).data),
    );
    const history: RunStart['history'] = { time: [], values: {} };
    if (stored.paths.includes('/timeseries/time')) {
      const times = Array.from(stored.get('/timeseries/time').data);
      // Keep the samples up to the checkpoint (the file is published at checkpoints, so all of them).
      const keep = times.filter((t) => t <= step * config.dt + config.dt / 2).length;
      history.time = times.slice(0, keep);
      for (const name of quantityNames(config.model))
        history.values[name] = Array.from(stored.get(`/timeseries/${name}`).data).slice(0, keep);
    }
    closed = true;
    stored.close();
    if (step * config.dt >= config.tEnd - config.dt / 2)
      throw new InvalidConfigError(
        `${file} already reached t = ${(step * config.dt).toFixed(3)} (end time ${config.tEnd}): pass a later --t-end to continue`,
      );
    const stepper = await createStepper(device, grid, config, threads);
    await stepper.setState(state);
    const writer = await H5Writer.resume(file);
    const wallSeconds = Number(stored.attrs.wall_seconds ?? 0);
    return { config, grid, stepper, writer, start: { step, history, wallSeconds } };
  } catch (error) {
    if (!closed) stored.close();
    throw error;
  }
}
