/**
 * What the run loop needs from a device: load and read the spectral state, and advance many steps
 * returning the scalar diagnostics sampled on the way (computed where the state lives; the GPU reads
 * back only these few numbers). `CpuStepper` wraps the CPU stepper (float64 reference, or float32
 * PFFFT brackets); `GpuStepper` (gpuStepper.ts) runs the WGSL kernels.
 */
import type { SpectralGrid } from '../spectral/grid.ts';
import { CpuSpectralStepper } from './cpuStepper.ts';
import { diagnose, quantityNames } from './diagnostics.ts';
import type { Integrator } from './integrator.ts';
import type { ModelParams } from './model.ts';
import { defaultThreads, ThreadedBrackets } from './bracketWorkers.ts';
import { PffftBrackets, pffftSupports } from './pffftBrackets.ts';

export interface Stepper {
  readonly deviceLabel: string;
  setState(fields: Float64Array[]): Promise<void>;
  getState(): Promise<Float64Array[]>;
  /**
   * Advances `steps` steps and returns the diagnostics after every `diagEvery`-th step (row-major,
   * one row of quantityNames(params) per sample).
   */
  advance(steps: number, diagEvery: number): Promise<Float64Array>;
  /**
   * `advance`, also returning the state after each step count in `captureAfter` (ascending, in
   * 1..steps): snapshots inside a chunk, read back with its diagnostics instead of ending the
   * chunk at every snapshot for a `getState` round trip.
   */
  advanceCapturing(
    steps: number,
    diagEvery: number,
    captureAfter: readonly number[],
  ): Promise<Advanced>;
  destroy(): void;
}

export interface Advanced {
  samples: Float64Array;
  /** One state (a spectrum per field) per entry of `captureAfter`. */
  states: Float64Array[][];
}

/** Checks `captureAfter` against the contract of Stepper.advanceCapturing. */
export function checkCaptures(steps: number, captureAfter: readonly number[]): void {
  captureAfter.forEach((at, i) => {
    if (!Number.isInteger(at) || at < 1 || at > steps || (i > 0 && at <= captureAfter[i - 1]!))
      throw new Error(
        `internal: cannot capture the state after step ${at} of ${steps} (captures must ascend within the chunk)`,
      );
  });
}

/**
 * advanceCapturing for steppers whose state is on the host: advance to each capture point and
 * copy the state there, cutting the segments so the samples still fall every diagEvery steps
 * from the chunk's start.
 */
export async function advanceBySegments(
  stepper: Stepper,
  steps: number,
  diagEvery: number,
  captureAfter: readonly number[],
): Promise<Advanced> {
  checkCaptures(steps, captureAfter);
  const parts: Float64Array[] = [];
  const states: Float64Array[][] = [];
  let done = 0;
  for (const at of [...captureAfter, steps]) {
    const lead = (diagEvery - (done % diagEvery)) % diagEvery;
    if (lead > at - done) {
      await stepper.advance(at - done, at - done + 1); // no sample point inside
    } else {
      if (lead > 0) parts.push(await stepper.advance(lead, lead));
      if (at > done + lead) parts.push(await stepper.advance(at - done - lead, diagEvery));
    }
    done = at;
    if (states.length < captureAfter.length) states.push(await stepper.getState());
  }
  const samples = new Float64Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    samples.set(part, offset);
    offset += part.length;
  }
  return { samples, states };
}

export type CpuPrecision = 'f32' | 'f64';

export class CpuStepper implements Stepper {
  readonly deviceLabel: string;
  readonly core: CpuSpectralStepper;
  readonly #quantities: number;
  readonly #engine: PffftBrackets | ThreadedBrackets | null;

  constructor(
    readonly grid: SpectralGrid,
    readonly params: ModelParams,
    dt: number,
    integrator: Integrator,
    engine: PffftBrackets | ThreadedBrackets | null = null,
  ) {
    this.core = new CpuSpectralStepper(grid, params, dt, integrator, engine);
    this.#engine = engine;
    const threads = engine instanceof ThreadedBrackets ? engine.threads : 1;
    this.deviceLabel = engine
      ? `cpu (float32 PFFFT brackets, ${threads} thread${threads > 1 ? 's' : ''})`
      : 'cpu (float64 TypeScript)';
    this.#quantities = quantityNames(params).length;
  }

  /**
   * The CPU stepper at `precision`: f32 runs the brackets through PFFFT on `threads` threads
   * (falling back to f64 where the grid does not suit PFFFT), f64 is the all-float64 reference.
   */
  static async create(
    grid: SpectralGrid,
    params: ModelParams,
    dt: number,
    integrator: Integrator,
    precision: CpuPrecision,
    threads = defaultThreads(grid),
  ): Promise<CpuStepper> {
    const fields = params.kind === 'hw' ? 2 : 1;
    let engine: PffftBrackets | ThreadedBrackets | null = null;
    if (precision === 'f32' && pffftSupports(grid) && threads > 1)
      engine = await ThreadedBrackets.create(grid, fields, threads).catch((error: Error) => {
        console.error(`driftflow: worker threads unavailable (${error.message}); using one thread`);
        return null;
      });
    if (precision === 'f32' && pffftSupports(grid) && !engine)
      engine = await PffftBrackets.create(grid, fields);
    return new CpuStepper(grid, params, dt, integrator, engine);
  }

  async setState(fields: Float64Array[]): Promise<void> {
    fields.forEach((field, i) => this.core.state[i]!.set(field));
  }

  async getState(): Promise<Float64Array[]> {
    return this.core.state.map((field) => field.slice());
  }

  /** Scalar diagnostics of the current state, in quantityNames order. */
  sample(): Float64Array {
    const { core } = this;
    const { scalars, names } = diagnose(
      this.params,
      this.grid,
      core.state,
      core.potential(core.state),
    );
    return Float64Array.from(names, (name) => scalars[name]!);
  }

  async advance(steps: number, diagEvery: number): Promise<Float64Array> {
    const out = new Float64Array(Math.floor(steps / diagEvery) * this.#quantities);
    let sample = 0;
    for (let s = 1; s <= steps; s++) {
      this.core.step();
      if (s % diagEvery === 0) out.set(this.sample(), this.#quantities * sample++);
    }
    return out;
  }

  advanceCapturing(
    steps: number,
    diagEvery: number,
    captureAfter: readonly number[],
  ): Promise<Advanced> {
    return advanceBySegments(this, steps, diagEvery, captureAfter);
  }

  destroy(): void {
    if (this.#engine instanceof ThreadedBrackets) this.#engine.destroy();
  }
}
