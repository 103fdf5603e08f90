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
  destroy(): void;
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

  destroy(): void {
    if (this.#engine instanceof ThreadedBrackets) this.#engine.destroy();
  }
}
