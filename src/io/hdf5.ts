/**
 * HDF5 output for simulation data through h5wasm, laid out so h5py users find the obvious names:
 * `/fields/<name>` datasets (time, y, x) that grow as snapshots are appended, `/timeseries/<name>`
 * 1-D datasets that grow per diagnostic sample, and every run parameter as a root attribute.
 *
 * Files are built at a temporary path and renamed into place (`commitTempFile`), so a reader
 * never sees a half-written file and a killed run keeps its previous output. Since nothing is
 * visible before a checkpoint, appends are staged in memory and written one dataset at a time at
 * the next checkpoint (or once `stageLimitBytes` is staged): each h5wasm append looks up, resizes
 * and writes its dataset, which made most of a 64² GPU run's wall time when each snapshot wrote
 * ~20 small frames (bench/results/ehwc-speed-h100/README.md).
 */

import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { existsSync } from 'node:fs';
import h5wasm from 'h5wasm/node';
import { commitTempFile, replaceAtomically, tempPathFor } from './atomic.ts';

export type AttrValue = number | string | boolean | number[];
export type Attrs = Record<string, AttrValue>;

let ready: Promise<unknown> | undefined;
async function h5(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready;
  await ready;
  return h5wasm;
}

/** Arrays a dataset can be written from (floats for fields, integers for indices and ids). */
export type DatasetArray = Float32Array | Float64Array | Int32Array | Uint16Array | Uint8Array;

export interface FieldData {
  data: DatasetArray;
  shape: number[];
  attrs?: Attrs;
}

/** Sets attributes, replacing ones that exist (HDF5 refuses to create an attribute twice). */
function setAttrs(
  target: {
    attrs: Record<string, unknown>;
    create_attribute: (name: string, value: never) => void;
    delete_attribute: (name: string) => number;
  },
  attrs: Attrs,
) {
  for (const [name, value] of Object.entries(attrs)) {
    const stored = typeof value === 'boolean' ? Number(value) : value;
    if (name in target.attrs && target.delete_attribute(name) !== 0)
      throw new Error(`cannot replace the HDF5 attribute '${name}'`);
    target.create_attribute(name, stored as never);
  }
}

function dtypeOf(data: DatasetArray): string {
  if (data instanceof Float64Array) return '<d';
  if (data instanceof Float32Array) return '<f';
  if (data instanceof Int32Array) return '<i';
  if (data instanceof Uint16Array) return '<H';
  return '<B';
}

/** Appends to one growable dataset not yet written: `rows` along time, each `frameShape`. */
interface StagedAppends {
  parts: (Float32Array | Float64Array)[];
  rows: number;
  frameShape: number[];
  attrs?: Attrs;
}

function concatenated(parts: (Float32Array | Float64Array)[]): Float32Array | Float64Array {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const out =
    first instanceof Float32Array
      ? new Float32Array(parts.reduce((n, part) => n + part.length, 0))
      : new Float64Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * An HDF5 file open for writing at a temporary path; `commit()` closes it and renames it onto the
 * target, `abort()` deletes it. Datasets whose first dimension is time grow with `append*`.
 */
export class H5Writer {
  /** Staged appends are written once more than this many bytes wait (0: write every append). */
  stageLimitBytes = 32 << 20;
  readonly #staged = new Map<string, StagedAppends>();
  #stagedBytes = 0;

  private constructor(
    private file: InstanceType<typeof h5wasm.File>,
    private readonly temp: string,
    readonly target: string,
  ) {}

  static async create(target: string, attrs: Attrs = {}): Promise<H5Writer> {
    const lib = await h5();
    await mkdir(dirname(target), { recursive: true });
    const temp = tempPathFor(target);
    const file = new lib.File(temp, 'w');
    setAttrs(file, attrs);
    return new H5Writer(file, temp, target);
  }

  /**
   * Reopens a committed file to continue writing it (resume): the target is copied to a temporary
   * path and that copy is written; the target stays as it was until the next `checkpoint`/`commit`.
   */
  static async resume(target: string): Promise<H5Writer> {
    const lib = await h5();
    const temp = tempPathFor(target);
    await copyFile(target, temp);
    return new H5Writer(new lib.File(temp, 'a'), temp, target);
  }

  /**
   * Publishes everything written so far: the file is closed, copied onto the target atomically and
   * reopened for more writes. A run killed later leaves the target as of this call.
   */
  async checkpoint(): Promise<void> {
    const lib = await h5();
    this.#writeStaged();
    this.file.close();
    await replaceAtomically(this.target, (path) => copyFile(this.temp, path));
    this.file = new lib.File(this.temp, 'a');
  }

  /** Creates or overwrites a fixed-shape dataset (checkpointed state). */
  writeFixed(path: string, data: Float32Array | Float64Array, shape: number[]): void {
    this.#writeStaged(path);
    const existing = this.file.get(path) as InstanceType<typeof h5wasm.Dataset> | null;
    if (!existing) {
      this.writeDataset(path, { data, shape });
      return;
    }
    const same =
      existing.shape?.length === shape.length && existing.shape.every((n, i) => n === shape[i]);
    if (!same)
      throw new Error(`${path}: shape ${existing.shape} cannot be overwritten with ${shape}`);
    existing.write_slice(
      shape.map((n) => [0, n] as [number, number]),
      data,
    );
  }

  /** Appends values to the growable 1-D dataset at `path` (time series). */
  appendValues(path: string, values: Float64Array): void {
    if (values.length === 0) return;
    this.#stage(path, values, values.length, []);
  }

  /** Whether an object exists at `path`. */
  has(path: string): boolean {
    return this.#staged.has(path) || Boolean(this.file.get(path));
  }

  /** Creates the groups above `path` that do not exist yet (HDF5 does not, unlike h5py). */
  private ensureParents(path: string): void {
    const parts = path.split('/').filter(Boolean);
    let at = '';
    for (const part of parts.slice(0, -1)) {
      at += `/${part}`;
      if (!this.file.get(at)) this.file.create_group(at);
    }
  }

  /** Writes a whole dataset (e.g. a coordinate axis or a final field). */
  writeDataset(path: string, field: FieldData): void {
    this.#writeStaged(path);
    this.ensureParents(path);
    this.file.create_dataset({
      name: path,
      data: field.data,
      shape: field.shape,
      dtype: dtypeOf(field.data),
    });
    if (field.attrs) this.setAttributes(path, field.attrs);
  }

  /** Appends one frame (shape = frameShape) to the growable dataset at `path` (time first). */
  appendFrame(
    path: string,
    frame: Float32Array | Float64Array,
    frameShape: number[],
    attrs?: Attrs,
  ): void {
    const frameSize = frameShape.reduce((a, b) => a * b, 1);
    if (frame.length !== frameSize) {
      throw new Error(
        `${path}: frame has ${frame.length} values, shape ${frameShape} needs ${frameSize}`,
      );
    }
    this.#stage(path, frame, 1, frameShape, attrs);
  }

  /** Copies an append into the stage (callers may reuse their arrays); writes past the limit. */
  #stage(
    path: string,
    data: Float32Array | Float64Array,
    rows: number,
    frameShape: number[],
    attrs?: Attrs,
  ): void {
    const staged = this.#staged.get(path);
    if (staged) {
      if (staged.frameShape.join() !== frameShape.join())
        throw new Error(`${path}: frame shape ${frameShape} differs from ${staged.frameShape}`);
      staged.parts.push(data.slice());
      staged.rows += rows;
    } else {
      this.#staged.set(path, { parts: [data.slice()], rows, frameShape, attrs });
    }
    this.#stagedBytes += data.byteLength;
    if (this.#stagedBytes > this.stageLimitBytes) this.#writeStaged();
  }

  /** Writes the staged appends of `path`, or of every dataset, to the file (one write each). */
  #writeStaged(path?: string): void {
    const paths = path === undefined ? [...this.#staged.keys()] : [path];
    for (const name of paths) {
      const staged = this.#staged.get(name);
      if (!staged) continue;
      this.#staged.delete(name);
      this.#stagedBytes -= staged.parts.reduce((n, part) => n + part.byteLength, 0);
      this.#append(name, staged);
    }
  }

  #append(path: string, { parts, rows, frameShape, attrs }: StagedAppends): void {
    const data = concatenated(parts);
    const existing = this.file.get(path) as InstanceType<typeof h5wasm.Dataset> | null;
    if (!existing) {
      this.ensureParents(path);
      this.file.create_dataset({
        name: path,
        data,
        shape: [rows, ...frameShape],
        maxshape: [null, ...frameShape],
        chunks: frameShape.length ? [1, ...frameShape] : [4096],
        dtype: dtypeOf(data),
      });
      // h5wasm returns null from create_dataset for chunked datasets: look it up instead.
      if (attrs) this.setAttributes(path, attrs);
      return;
    }
    const count = existing.shape![0]!;
    existing.resize([count + rows, ...frameShape]);
    existing.write_slice(
      [[count, count + rows], ...frameShape.map((n) => [0, n] as [number, number])],
      data,
    );
  }

  /** Appends scalar samples to the growable 1-D dataset at `path`. */
  appendSeries(path: string, values: number[]): void {
    this.appendFrame(path, Float64Array.from(values), [values.length]);
  }

  setAttributes(path: string, attrs: Attrs): void {
    if (path !== '/') this.#writeStaged(path);
    const target = path === '/' ? this.file : this.file.get(path);
    if (!target) throw new Error(`cannot set attributes: no object at '${path}'`);
    setAttrs(target as never, attrs);
  }

  /** Closes the file and atomically moves it onto the target path. */
  async commit(): Promise<void> {
    this.#writeStaged();
    this.file.close();
    await commitTempFile(this.temp, this.target);
  }

  /** Closes and deletes the temporary file; the target is left as it was. */
  async abort(): Promise<void> {
    this.#staged.clear();
    this.#stagedBytes = 0;
    this.file.close();
    await rm(this.temp, { force: true });
  }
}

export interface H5Dataset {
  shape: number[];
  /** Float fields; integer datasets come back as their own typed array (cast at the reader). */
  data: Float32Array | Float64Array;
  attrs: Record<string, unknown>;
}

/** Reads datasets and root attributes of an HDF5 file (for tests, reports and resume). */
export async function readH5(path: string): Promise<{
  attrs: Record<string, unknown>;
  paths: string[];
  get: (name: string) => H5Dataset;
  close: () => void;
}> {
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  const lib = await h5();
  const file = new lib.File(path, 'r');
  const attrsOf = (entity: { attrs: Record<string, { json_value: unknown }> }) =>
    Object.fromEntries(Object.entries(entity.attrs).map(([k, a]) => [k, a.json_value]));
  return {
    attrs: attrsOf(file),
    paths: file.paths().map((p) => (p.startsWith('/') ? p : `/${p}`)),
    get(name) {
      const dataset = file.get(name) as InstanceType<typeof lib.Dataset> | null;
      if (!dataset || !('shape' in dataset)) throw new Error(`${path}: no dataset '${name}'`);
      return {
        shape: dataset.shape ?? [],
        data: dataset.value as Float32Array | Float64Array,
        attrs: attrsOf(dataset),
      };
    },
    close: () => file.close(),
  };
}
