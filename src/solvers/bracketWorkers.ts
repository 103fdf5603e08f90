/**
 * The PFFFT brackets split over threads: the main thread and `threads − 1` helpers
 * (bracketWorker.ts) each take a contiguous share of the columns (passes 1 and 3) and of the rows
 * (pass 2). Inputs, the intermediate arrays and outputs live in SharedArrayBuffers; each pass
 * ends at a barrier built on Atomics.wait/notify, so a stage costs three synchronisations. Every
 * value is computed by exactly one thread in a fixed order: results do not depend on timing.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { GridOptions, SpectralGrid } from '../spectral/grid.ts';
import type { BracketEngine } from './cpuStepper.ts';
import { type BracketScratch, bracketScratch, PffftBrackets } from './pffftBrackets.ts';

export interface BracketJob {
  grid: GridOptions;
  fields: number;
  scratch: BracketScratch;
  sources: Float64Array[];
  outputs: Float64Array[];
  control: SharedArrayBuffer;
  columns: [number, number];
  rows: [number, number];
  helpers: number;
}

/** [start, end) of part `part` of `count` near-equal parts of [0, n). */
function share(n: number, part: number, count: number): [number, number] {
  return [Math.floor((n * part) / count), Math.floor((n * (part + 1)) / count)];
}

function sharedSpectra(count: number, grid: SpectralGrid): Float64Array[] {
  return Array.from(
    { length: count },
    () => new Float64Array(new SharedArrayBuffer(16 * grid.spectralSize)),
  );
}

/**
 * All cores from 256² up; one thread below, where three synchronisations per stage cost more than
 * they save (bench/results/cpu-solvers.json: 128² runs faster on one thread).
 */
export function defaultThreads(grid?: SpectralGrid): number {
  return grid && grid.nx * grid.ny < 256 * 256 ? 1 : availableParallelism();
}

export class ThreadedBrackets implements BracketEngine {
  readonly #engine: PffftBrackets;
  readonly #workers: Worker[];
  readonly #control: Int32Array;
  readonly #sources: Float64Array[];
  readonly #outputs: Float64Array[];
  readonly #columns: [number, number];
  readonly #rows: [number, number];

  private constructor(
    engine: PffftBrackets,
    workers: Worker[],
    control: Int32Array,
    sources: Float64Array[],
    outputs: Float64Array[],
  ) {
    this.#engine = engine;
    this.#workers = workers;
    this.#control = control;
    this.#sources = sources;
    this.#outputs = outputs;
    const parts = workers.length + 1;
    this.#columns = share(engine.grid.ncols, 0, parts);
    this.#rows = share(engine.grid.ny, 0, parts);
  }

  get threads(): number {
    return this.#workers.length + 1;
  }

  static async create(
    grid: SpectralGrid,
    fields: number,
    threads: number,
  ): Promise<ThreadedBrackets> {
    const scratch = bracketScratch(grid, fields, true);
    const engine = await PffftBrackets.create(grid, fields, scratch);
    const control = new SharedArrayBuffer(12);
    const sources = sharedSpectra(fields + 1, grid);
    const outputs = sharedSpectra(fields, grid);
    const parts = Math.max(1, Math.min(threads, grid.ncols));
    const started = await Promise.allSettled(
      Array.from({ length: parts - 1 }, (_, i) => {
        const job: BracketJob = {
          grid: { nx: grid.nx, ny: grid.ny, lx: grid.lx, ly: grid.ly, dealias: '2/3' },
          fields,
          scratch,
          sources,
          outputs,
          control,
          columns: share(grid.ncols, i + 1, parts),
          rows: share(grid.ny, i + 1, parts),
          helpers: parts - 1,
        };
        const worker = new Worker(new URL('./bracketWorker.ts', import.meta.url), {
          workerData: job,
        });
        worker.unref();
        return new Promise<Worker>((resolve, reject) => {
          worker.once('message', () => resolve(worker));
          worker.once('error', reject);
        });
      }),
    );
    const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      for (const worker of workers) void worker.terminate();
      throw failed.reason as Error;
    }
    return new ThreadedBrackets(engine, workers, new Int32Array(control), sources, outputs);
  }

  #phase(phase: number, own: () => void): void {
    const control = this.#control;
    const helpers = this.#workers.length;
    Atomics.store(control, 2, 0);
    Atomics.store(control, 1, phase);
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    own();
    for (let done = Atomics.load(control, 2); done !== helpers; done = Atomics.load(control, 2))
      Atomics.wait(control, 2, done);
  }

  brackets(phi: Float64Array, fields: Float64Array[], out: Float64Array[]): void {
    const engine = this.#engine;
    [phi, ...fields].forEach((source, i) => this.#sources[i]!.set(source));
    this.#phase(1, () => engine.columnsInverse(this.#sources, ...this.#columns));
    this.#phase(2, () => engine.rowsBracket(...this.#rows));
    this.#phase(3, () => engine.columnsForward(this.#outputs, ...this.#columns));
    out.forEach((field, f) => field.set(this.#outputs[f]!));
  }

  destroy(): void {
    Atomics.store(this.#control, 1, 0);
    Atomics.add(this.#control, 0, 1);
    Atomics.notify(this.#control, 0);
    for (const worker of this.#workers) void worker.terminate();
  }
}
