/**
 * The pseudo-spectral stepper in hand-written WGSL. Per RK4 stage three kernels: inverse column
 * FFTs of φ̂, i·ky φ̂, f̂, i·ky f̂ (kernel 1); per grid row the inverse real FFTs, the brackets and
 * their forward real FFTs, all in shared memory (kernel 2); forward column FFTs fused with the RHS
 * and the stage update (kernel 3). Up to FUSE_MAX_NY rows kernel 3 also does the next stage's
 * kernel 1 on its columns, so kernel 1 runs only after setState. A whole chunk of steps is
 * recorded into few command buffers; snapshots inside it are copies recorded between steps;
 * diagnostics are reduced on the device into a ring read back once per `advance`. Only the 2/3
 * de-aliased columns exist in memory; the per-mode arrays the column kernels stream (state, stage
 * inputs, acc, forcing, linear data) are stored column by column (toColumnOrder), the row
 * kernel's inputs and outputs row by row. The CPU stepper (cpuStepper.ts) is its reference.
 */
import { createBufferFrom, createStorageBuffer, readBuffer } from '../runtime/buffers.ts';
import { CommandBatch, GpuTimer } from '../runtime/commands.ts';
import type { WebGpuDevice } from '../runtime/device.ts';
import { getKernel, type Kernel, loadWgsl } from '../runtime/kernels.ts';
import type { SpectralGrid } from '../spectral/grid.ts';
import { InvalidConfigError, type SimulationConfig } from './config.ts';
import { quantityNames } from './diagnostics.ts';
import { STAGES } from './integrator.ts';
import { fftTwiddles, smallestRadix } from './gpuFft.ts';
import { closureMatrices, forcingSpectrum, type ModelParams } from './model.ts';
import { hwPropagators } from './propagator.ts';
import { type Advanced, checkCaptures, type Stepper } from './stepper.ts';

const Q = 8;
const SLOT = 256;
const RING_SAMPLES = 1024;
const STEPS_PER_SUBMIT = 16;
/**
 * The fused update (8 dispatches a step) by default up to this many rows: on the H100 it gained
 * 10-36% at 64²-256², where a step is bound by the CPU recording its dispatches, and lost 5% and
 * 21% at 512² and 1024², where fitting the sources cuts the columns per workgroup
 * (bench/results/h100-solvers.json, alternativeLayout; IF-RK4 alike: h100-solver-variants.txt, run 5).
 */
const FUSE_MAX_NY = 256;
/** The label of profileStep's diagnostics pass. */
export const DIAGNOSTICS_PASS = 'diagnostics sample';

async function source(...files: string[]): Promise<string> {
  const parts = await Promise.all(files.map((f) => loadWgsl(`./wgsl/${f}`, import.meta.url)));
  return parts.join('\n');
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

type KernelShape = { wg: number; shared: number; c: number; extra?: Record<string, number> };

/**
 * Workgroup shapes: column kernels take C columns (a power of two, up to 8, so a row segment
 * is 64 bytes), each padded in shared memory as fft_shared expects; the row kernel holds 3 + fields
 * padded rows of nx/2 packed values. Every FFT pass gives each butterfly its own thread.
 */
function kernelLayout(
  grid: SpectralGrid,
  limits: GPUSupportedLimits,
  fields: number,
  coupled: boolean,
  workgroupBytes = limits.maxComputeWorkgroupStorageSize,
  fuse = true,
): { columns: KernelShape; rows: KernelShape; update: KernelShape; fused: boolean } {
  const maxShared = Math.floor(Math.min(workgroupBytes, limits.maxComputeWorkgroupStorageSize) / 8);
  const maxThreads = limits.maxComputeInvocationsPerWorkgroup;
  const m = grid.nx / 2;
  const columnThreads = (c: number) => (c * grid.ny) / smallestRadix(Math.log2(grid.ny));
  const padded = (n: number) => n + Math.floor(n / 16);
  const column = padded(grid.ny) + 1;
  // C columns per workgroup, or C of each field (2C in all) for the coupled update.
  const columnShape = (perColumn: number): KernelShape => {
    let c = 8;
    while (
      c > 1 &&
      (perColumn * c * column > maxShared || columnThreads(perColumn * c) > maxThreads)
    )
      c /= 2;
    const n = perColumn * c;
    // At least one thread per 4 modes for the per-mode loops (one per 8, or just the FFT's
    // threads, measured slower or equal on the H100 at 128²-2048²: h100-solver-variants.txt).
    return {
      c,
      shared: n * column,
      wg: clamp(Math.max(columnThreads(n), (n * grid.ny) / 4), 64, maxThreads),
    };
  };
  const rowThreads = (4 * m) / smallestRadix(Math.log2(m));
  const updateFields = coupled ? 2 : 1;
  const fits = (shape: KernelShape, threads: number) =>
    shape.shared <= maxShared && threads <= shape.wg;
  // Fused update (columns_update.wgsl FUSED): room for the next stage's sources of its fields,
  // C of each (all 2(fields + 1) coupled; at most 4, Ω's or NS ω's, per field otherwise).
  const fusedSources = coupled ? 2 * (fields + 1) : 4;
  const fusedUpdate = columnShape(fusedSources);
  const fused = fuse && fits(fusedUpdate, columnThreads(fusedSources * fusedUpdate.c));
  const layout = {
    columns: columnShape(1),
    rows: {
      c: 0,
      shared: (3 + fields) * padded(m),
      wg: clamp(rowThreads, 64, maxThreads),
    },
    update: fused ? fusedUpdate : columnShape(updateFields),
    fused,
  };
  if (
    !fits(layout.columns, columnThreads(layout.columns.c)) ||
    !fits(layout.rows, rowThreads) ||
    !fits(layout.update, columnThreads(updateFields * layout.update.c))
  )
    throw new InvalidConfigError(
      `the WebGPU solver does not fit this adapter's workgroup limits (${8 * maxShared} bytes, ${maxThreads} threads) at ${grid.nx}x${grid.ny}: use at most 2048 points per direction, or --device wasm`,
    );
  return layout;
}

/** The twiddle tables of the column FFT (ny), the row complex FFT (nx/2) and the real-FFT split. */
function twiddleTable(grid: SpectralGrid): {
  data: Float32Array;
  col: number;
  row: number;
  real: number;
} {
  const m = grid.nx / 2;
  const parts = [fftTwiddles(grid.ny), fftTwiddles(m), fftTwiddles(grid.nx, m + 1)];
  const data = new Float32Array(parts.reduce((s, part) => s + part.length, 0));
  const offsets: number[] = [];
  let at = 0;
  for (const part of parts) {
    offsets.push(at / 2);
    data.set(part, at);
    at += part.length;
  }
  return { data, col: offsets[0]!, row: offsets[1]!, real: offsets[2]! };
}

function packParams(
  grid: SpectralGrid,
  config: SimulationConfig,
  tw: { col: number; row: number; real: number },
): Uint8Array {
  const bytes = new ArrayBuffer(4 * SLOT);
  const model: ModelParams = config.model;
  for (let stage = 0; stage < 4; stage++) {
    const u = new Uint32Array(bytes, stage * SLOT, 32);
    const f = new Float32Array(bytes, stage * SLOT, 32);
    const coefficients = STAGES[stage];
    u.set([grid.nx, grid.ny, grid.ncols, grid.kmaxY], 0);
    u.set(
      [
        model.kind === 'hw' ? 0 : 1,
        model.kind === 'hw' ? 2 : 1,
        model.kind === 'hw' && model.modified ? 1 : 0,
        model.kind === 'hw' ? model.hyperOrder : 0,
      ],
      4,
    );
    f.set(
      [
        grid.dkx,
        grid.dky,
        model.kind === 'hw' ? model.c1 : 0,
        model.kind === 'hw' ? model.kappa : 0,
      ],
      8,
    );
    f.set([model.nu, model.kind === 'ns' ? model.drag : 0, config.dt], 12);
    u[15] = config.integrator === 'ifrk4' ? 1 : 0;
    u.set(
      [stage === 3 ? 1 : 0, coefficients?.a ?? 0, coefficients?.b ?? 0, coefficients?.c ?? 0],
      16,
    );
    f.set([coefficients?.beta ?? 0, coefficients?.gamma ?? 0, 1 / (grid.nx * grid.ny)], 20);
    u[23] = stage === 0 ? 1 : 0;
    u.set([Math.log2(grid.ny), Math.log2(grid.nx / 2), tw.col, tw.row, tw.real], 24);
  }
  return new Uint8Array(bytes);
}

/**
 * The solver buffers' mode order. Host arrays keep the grid's order, mode (row, col) at
 * row·ncols + col; on the GPU every per-mode array except the two row-kernel intermediates is
 * stored column by column, mode (row, col) at col·ny + row, so the column kernels move whole
 * columns instead of C-wide row segments. `width` floats per mode, `fields` arrays back to back.
 */
function toColumnOrder(data: ArrayLike<number>, grid: SpectralGrid, width: number): Float32Array {
  const { ny, ncols } = grid;
  const out = new Float32Array(data.length);
  const block = width * ny * ncols;
  for (let base = 0; base < data.length; base += block)
    for (let row = 0; row < ny; row++)
      for (let col = 0; col < ncols; col++)
        for (let q = 0; q < width; q++)
          out[base + width * (col * ny + row) + q] = data[base + width * (row * ncols + col) + q]!;
  return out;
}

/** The inverse of toColumnOrder for complex values (width 2), in float64. */
function fromColumnOrder(data: Float32Array, grid: SpectralGrid): Float64Array {
  const { ny, ncols } = grid;
  const out = new Float64Array(data.length);
  for (let row = 0; row < ny; row++)
    for (let col = 0; col < ncols; col++) {
      out[2 * (row * ncols + col)] = data[2 * (col * ny + row)]!;
      out[2 * (row * ncols + col) + 1] = data[2 * (col * ny + row) + 1]!;
    }
  return out;
}

/**
 * The update kernel's per-mode linear data: HW with IF-RK4 the propagator exp(L dt/2) (8 floats
 * per mode), HW with RK4 and a closure the closure's matrix (4), otherwise null.
 */
function linearData(config: SimulationConfig, grid: SpectralGrid): Float32Array | null {
  const model = config.model;
  if (model.kind !== 'hw') return null;
  if (config.integrator === 'ifrk4')
    return toColumnOrder(hwPropagators(model, grid, config.dt), grid, 8);
  const closure = closureMatrices(model, grid);
  return closure && toColumnOrder(closure, grid, 4);
}

type StepBuffers = Record<
  | 'state'
  | 'nextA'
  | 'nextB'
  | 'acc'
  | 'cols'
  | 'prod'
  | 'forcing'
  | 'linear'
  | 'tw'
  | 'params'
  | 'rowsums'
  | 'ring'
  | 'counter',
  GPUBuffer
>;
type StepKernels = {
  columns: Kernel;
  rows: Kernel;
  update: Kernel;
  diagRows: Kernel;
  diagTotal: Kernel;
};

export class GpuStepper implements Stepper {
  readonly deviceLabel: string;
  readonly #gpu: GPUDevice;
  readonly #fields: number;
  readonly #size: number;
  readonly #buffers: StepBuffers;
  readonly #kernels: StepKernels;
  readonly #groups: { columns: [number, number]; update: [number, number] };
  /** HW with IF-RK4: the update kernel applies the 2x2 propagator to both fields at once. */
  readonly #coupled: boolean;
  /** The bind groups of each RK4 stage's three dispatches. */
  readonly #groupsByStage: GPUBindGroup[][];
  /** The update kernel also prepares the next stage's sources (kernelLayout). */
  readonly #fused: boolean;
  /** Fused: whether `cols` holds the current state's sources (false after setState). */
  #sourcesReady = false;

  private constructor(
    device: WebGpuDevice,
    readonly grid: SpectralGrid,
    readonly params: ModelParams,
    buffers: StepBuffers,
    kernels: StepKernels,
    groups: { columns: [number, number]; update: [number, number] },
    coupled: boolean,
    fused: boolean,
  ) {
    this.deviceLabel = `webgpu (${device.adapter.description || device.adapter.vendor || 'adapter'})`;
    this.#gpu = device.gpu;
    this.#fields = params.kind === 'hw' ? 2 : 1;
    this.#size = grid.spectralSize;
    this.#buffers = buffers;
    this.#kernels = kernels;
    this.#groups = groups;
    this.#coupled = coupled;
    this.#fused = fused;
    this.#groupsByStage = this.#stepBindGroups();
  }

  /**
   * `options.workgroupBytes` caps the workgroup memory the layout may use below the adapter's
   * limit, so tests can run the layout of large grids (one or two columns per workgroup) at small
   * sizes; `options.fuse` overrides the FUSE_MAX_NY rule (true: fuse wherever the sources fit,
   * false: kernel 1 stays its own dispatch at every stage).
   */
  static async create(
    device: WebGpuDevice,
    grid: SpectralGrid,
    config: SimulationConfig,
    options: { workgroupBytes?: number; fuse?: boolean } = {},
  ): Promise<GpuStepper> {
    const gpu = device.gpu;
    const fields = config.model.kind === 'hw' ? 2 : 1;
    const sources = 2 * (fields + 1);
    const coupled = config.model.kind === 'hw' && config.integrator === 'ifrk4';
    const layout = kernelLayout(
      grid,
      gpu.limits,
      fields,
      coupled,
      options.workgroupBytes,
      options.fuse ?? grid.ny <= FUSE_MAX_NY,
    );
    const linear = linearData(config, grid);
    const common = await source('step_params.wgsl', 'spectral_common.wgsl', 'step_grid.wgsl');
    const gridConstants = {
      NX: grid.nx,
      NY: grid.ny,
      NCOLS: grid.ncols,
      LOG_NY: Math.log2(grid.ny),
      LOG_M: Math.log2(grid.nx / 2),
      FIELDS: fields,
      MODEL: config.model.kind === 'hw' ? 0 : 1,
    };
    const kernel = async (file: string, shape: KernelShape) =>
      getKernel(gpu, {
        code: `${common}\n${await source('columns_sources.wgsl', file)}`,
        label: file,
        constants: {
          WG: shape.wg,
          SHARED: shape.shared,
          ...gridConstants,
          ...(shape.c ? { C: shape.c } : {}),
          ...shape.extra,
        },
      });
    const diag = (file: string) =>
      source('step_params.wgsl', 'diagnostics_common.wgsl', file).then((code) =>
        getKernel(gpu, { code, label: file }),
      );
    const kernels = {
      columns: await kernel('columns_inverse.wgsl', layout.columns),
      rows: await kernel('rows_bracket.wgsl', layout.rows),
      update: await kernel('columns_update.wgsl', {
        ...layout.update,
        extra: {
          CLOSURE: linear && !coupled ? 1 : 0,
          COUPLED: coupled ? 1 : 0,
          FUSED: layout.fused ? 1 : 0,
        },
      }),
      diagRows: await diag('diagnostics_rows.wgsl'),
      diagTotal: await diag('diagnostics_total.wgsl'),
    };
    const size = grid.spectralSize;
    const tw = twiddleTable(grid);
    const forcing = forcingSpectrum(config.model, grid) ?? new Float64Array(2 * size);
    const buffers = {
      state: createStorageBuffer(gpu, 8 * fields * size, 'state'),
      nextA: createStorageBuffer(gpu, 8 * fields * size, 'stage input A'),
      nextB: createStorageBuffer(gpu, 8 * fields * size, 'stage input B'),
      acc: createStorageBuffer(gpu, 8 * fields * size, 'acc'),
      cols: createStorageBuffer(gpu, 8 * sources * size, 'columns'),
      prod: createStorageBuffer(gpu, 8 * fields * size, 'brackets'),
      forcing: createBufferFrom(gpu, toColumnOrder(forcing, grid, 2)),
      linear: createBufferFrom(gpu, linear ?? new Float32Array(4)),
      tw: createBufferFrom(gpu, tw.data),
      params: createBufferFrom(
        gpu,
        packParams(grid, config, tw),
        GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      ),
      rowsums: createStorageBuffer(gpu, 4 * Q * grid.ny, 'row sums'),
      ring: createStorageBuffer(gpu, 4 * Q * RING_SAMPLES, 'diagnostics ring'),
      counter: createStorageBuffer(gpu, 4, 'ring counter'),
    };
    return new GpuStepper(
      device,
      grid,
      config.model,
      buffers,
      kernels,
      {
        columns: [Math.ceil(grid.ncols / layout.columns.c), sources],
        update: [Math.ceil(grid.ncols / layout.update.c), coupled ? 1 : fields],
      },
      coupled,
      layout.fused,
    );
  }

  #slot(stage: number) {
    return { buffer: this.#buffers.params, offset: stage * SLOT, size: 128 };
  }

  /**
   * The bind groups of the step's dispatches, [stage][kernel]. Stage inputs: state, A, B, A;
   * the update of stage s writes the input of stage s + 1 (the final one writes state and leaves
   * B untouched).
   */
  #stepBindGroups(): GPUBindGroup[][] {
    const b = this.#buffers;
    const k = this.#kernels;
    const inputs = [b.state, b.nextA, b.nextB, b.nextA];
    return inputs.map((input, stage) => {
      const params = this.#slot(stage);
      const output = stage === 3 ? b.nextB : inputs[stage + 1]!;
      return [
        k.columns.bindGroup([params, b.tw, input, b.cols]),
        k.rows.bindGroup([params, b.tw, b.cols, b.prod]),
        k.update.bindGroup([
          params,
          b.tw,
          b.prod,
          b.state,
          stage === 0 ? b.nextB : input,
          output,
          b.acc,
          b.forcing,
          b.linear,
          b.cols,
        ]),
      ];
    });
  }

  #recordStep(batch: CommandBatch, timed = false): void {
    const k = this.#kernels;
    for (let stage = 0; stage < 4; stage++) {
      const [columns, rows, update] = this.#groupsByStage[stage]!;
      // Fused: the previous update already wrote this stage's sources.
      if (!this.#fused || (stage === 0 && !this.#sourcesReady)) {
        if (timed) batch.beginPass(`stage ${stage + 1} columns inverse`);
        batch.dispatch(k.columns, columns!, this.#groups.columns);
      }
      if (timed) batch.beginPass(`stage ${stage + 1} rows bracket`);
      batch.dispatch(k.rows, rows!, this.grid.ny);
      if (timed) batch.beginPass(`stage ${stage + 1} columns update`);
      batch.dispatch(k.update, update!, this.#groups.update);
    }
    this.#sourcesReady = this.#fused;
  }
  #recordDiagnostics(batch: CommandBatch): void {
    const b = this.#buffers;
    batch.dispatch(
      this.#kernels.diagRows,
      [this.#slot(0), b.state, b.forcing, b.rowsums],
      this.grid.ny,
    );
    batch.dispatch(this.#kernels.diagTotal, [this.#slot(0), b.rowsums, b.ring, b.counter], 1);
  }

  async setState(fields: Float64Array[]): Promise<void> {
    const packed = new Float32Array(2 * this.#fields * this.#size);
    fields.forEach((field, i) =>
      packed.set(toColumnOrder(field, this.grid, 2), 2 * i * this.#size),
    );
    this.#gpu.queue.writeBuffer(this.#buffers.state, 0, packed);
    this.#sourcesReady = false;
  }

  async getState(): Promise<Float64Array[]> {
    return this.#unpackState(
      new Float32Array(await readBuffer(this.#gpu, this.#buffers.state, this.#stateBytes)),
    );
  }

  get #stateBytes(): number {
    return 8 * this.#fields * this.#size;
  }

  /** Host spectra (grid order, float64) of a copy of the state buffer. */
  #unpackState(data: Float32Array): Float64Array[] {
    return Array.from({ length: this.#fields }, (_, i) =>
      fromColumnOrder(data.subarray(2 * i * this.#size, 2 * (i + 1) * this.#size), this.grid),
    );
  }

  /**
   * GPU time of each kernel of one step (every dispatch in its own timed pass), then of one
   * diagnostics sample (its two dispatches, labelled DIAGNOSTICS_PASS), for the benchmark's
   * breakdown; null where the adapter has no timestamp queries.
   */
  async profileStep(): Promise<{ label: string; ms: number }[] | null> {
    if (!GpuTimer.supported(this.#gpu)) return null;
    const timer = new GpuTimer(this.#gpu, 16);
    const batch = new CommandBatch(this.#gpu, timer, 'profiled step');
    this.#recordStep(batch, true);
    batch.beginPass(DIAGNOSTICS_PASS);
    this.#recordDiagnostics(batch);
    batch.submit();
    const passes = await timer.read();
    timer.destroy();
    return passes;
  }

  /** Kernel dispatches of one step in a run of steps: 8 with the fused update, else 12. */
  get dispatchesPerStep(): number {
    return this.#fused ? 8 : 12;
  }

  /**
   * Bytes one step reads and writes in global memory (the roofline's numerator), per mode and
   * stage: kernel 1 reads and writes every source, kernel 2 reads them and writes the brackets,
   * kernel 3 reads per field its bracket, all stage inputs (the coupling), the state and acc, and
   * writes the next input and acc (NS also reads the forcing, EHW-C the closure matrix).
   */
  get bytesPerStep(): number {
    const sources = 2 * (this.#fields + 1);
    const closure = this.params.kind === 'hw' && this.params.closure ? 2 : 0; // one vec4 per mode
    // Coupled (HW IF-RK4): per field bracket, state, acc in and out, next; the 2x2 propagator.
    const update = this.#coupled
      ? this.#fields * 5 + 4
      : this.#fields * (6 + this.#fields + closure) + (this.params.kind === 'ns' ? 1 : 0);
    return 4 * 8 * this.#size * (3 * sources + this.#fields + update);
  }

  /** Records `steps` steps (no diagnostics), for benchmarks; resolves when the GPU is done. */
  async run(steps: number): Promise<void> {
    for (let done = 0; done < steps;) {
      const batch = new CommandBatch(this.#gpu, undefined, 'steps');
      const n = Math.min(STEPS_PER_SUBMIT, steps - done);
      for (let s = 0; s < n; s++) this.#recordStep(batch);
      batch.submit();
      done += n;
    }
    await this.#gpu.queue.onSubmittedWorkDone();
  }

  async advance(steps: number, diagEvery: number): Promise<Float64Array> {
    return (await this.advanceCapturing(steps, diagEvery, [])).samples;
  }

  /**
   * Records the steps (diagnostics every `diagEvery`, copies of the state after each step count
   * in `captureAfter`) in few submits; the ring is read back every RING_SAMPLES samples, the
   * captured states once all is submitted.
   */
  async advanceCapturing(
    steps: number,
    diagEvery: number,
    captureAfter: readonly number[],
  ): Promise<Advanced> {
    checkCaptures(steps, captureAfter);
    const names = quantityNames(this.params).length;
    const samples = Math.floor(steps / diagEvery);
    const out = new Float64Array(samples * names);
    const captures = captureAfter.map(() =>
      this.#gpu.createBuffer({
        label: 'captured state',
        size: this.#stateBytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      }),
    );
    let captured = 0;
    let taken = 0;
    let step = 0;
    while (step < steps) {
      this.#gpu.queue.writeBuffer(this.#buffers.counter, 0, new Uint32Array(1));
      const chunkEnd = Math.min(steps, step + RING_SAMPLES * diagEvery);
      let batch = new CommandBatch(this.#gpu, undefined, 'steps');
      let recorded = 0;
      const startSample = taken;
      for (; step < chunkEnd; step++) {
        this.#recordStep(batch);
        if ((step + 1) % diagEvery === 0) {
          this.#recordDiagnostics(batch);
          taken++;
        }
        if (step + 1 === captureAfter[captured]) {
          batch.copy(this.#buffers.state, 0, captures[captured]!, 0, this.#stateBytes);
          captured++;
        }
        if (++recorded === STEPS_PER_SUBMIT) {
          batch.submit();
          batch = new CommandBatch(this.#gpu, undefined, 'steps');
          recorded = 0;
        }
      }
      batch.submit();
      const count = taken - startSample;
      if (count > 0) {
        const ring = new Float32Array(
          await readBuffer(this.#gpu, this.#buffers.ring, 4 * Q * count),
        );
        for (let s = 0; s < count; s++)
          for (let q = 0; q < names; q++) out[(startSample + s) * names + q] = ring[s * Q + q]!;
      }
    }
    // The ring's readback already waited for the work; without samples, wait here.
    if (samples === 0 && captures.length === 0) await this.#gpu.queue.onSubmittedWorkDone();
    const states = await Promise.all(
      captures.map(async (buffer) => {
        await buffer.mapAsync(GPUMapMode.READ);
        const data = new Float32Array(buffer.getMappedRange().slice(0));
        buffer.destroy();
        return this.#unpackState(data);
      }),
    );
    return { samples: out, states };
  }

  destroy(): void {
    for (const buffer of Object.values(this.#buffers)) buffer.destroy();
    for (const kernel of Object.values(this.#kernels)) kernel.clearBindGroups();
  }
}
