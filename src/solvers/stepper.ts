/**
 * What the run loop needs from a device: load and read the spectral state, and advance many steps
 * returning the scalar diagnostics sampled on the way (computed where the state lives; the GPU reads
 * back only these few numbers). `CpuStepper` wraps the float64 reference; `GpuStepper` (gpuStepper.ts)
 * runs the WGSL kernels.
 */
import type { SpectralGrid } from '../spectral/grid.ts';
import { CpuSpectralStepper } from './cpuStepper.ts';
import { diagnose, quantityNames } from './diagnostics.ts';
import type { Integrator } from './integrator.ts';
import type { ModelParams } from './model.ts';

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

export class CpuStepper implements Stepper {
  readonly deviceLabel = 'cpu (float64 TypeScript)';
  readonly core: CpuSpectralStepper;
  readonly #quantities: number;

  constructor(
    readonly grid: SpectralGrid,
    readonly params: ModelParams,
    dt: number,
    integrator: Integrator,
  ) {
    this.core = new CpuSpectralStepper(grid, params, dt, integrator);
    this.#quantities = quantityNames(params).length;
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

  destroy(): void {}
}
