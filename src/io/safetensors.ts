/**
 * safetensors: a lazy reader that reads only the header up front and tensors by byte range, and a
 * writer. MoE experts are fetched one at a time from multi-GB shards, so whole-file reads (as in
 * jax-js's loader) are not an option; BF16/F16 weights are first-class.
 *
 * Layout: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets:
 * [begin, end]}, "__metadata__"?: {string: string}}, then the data block; offsets are relative to it.
 * The header is validated completely before any tensor is read: a length bound, JSON, known dtypes,
 * shapes, offsets inside the file, byte counts matching shapes, and no overlapping tensors.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { writeFileAtomic } from './atomic.ts';
import { bf16ToF32, f16ToF32 } from './halfFloat.ts';

export const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;
export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

/** Headers larger than this are rejected (the reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export class SafetensorsError extends Error {
  constructor(path: string, problem: string) {
    super(`${path}: not a valid safetensors file: ${problem}`);
    this.name = 'SafetensorsError';
  }
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

/** Validates a parsed header against the file size; returns tensors sorted by offset. */
export function validateHeader(
  path: string,
  header: unknown,
  dataStart: number,
  fileSize: number,
): { tensors: TensorInfo[]; metadata: Record<string, string> } {
  const fail = (problem: string): never => {
    throw new SafetensorsError(path, problem);
  };
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail('the header is not a JSON object');
  }
  const dataBytes = fileSize - dataStart;
  const tensors: TensorInfo[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      const ok =
        typeof entry === 'object' &&
        entry !== null &&
        Object.values(entry).every((v) => typeof v === 'string');
      if (!ok) fail('__metadata__ must map strings to strings');
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`tensor '${name}' is not an object`);
    if (!isDtype(e.dtype)) {
      fail(
        `tensor '${name}' has unknown dtype ${JSON.stringify(e.dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataBytes) {
      fail(
        `tensor '${name}' ends at byte ${end} of the data block, which has only ${dataBytes} bytes (truncated file?)`,
      );
    }
    const dtype = e.dtype as SafetensorsDtype;
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      fail(
        `tensor '${name}' has ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${expected}`,
      );
    }
    tensors.push({
      name,
      dtype,
      shape: shape as number[],
      begin: dataStart + begin,
      end: dataStart + end,
    });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < tensors.length; i++) {
    const previous = tensors[i - 1]!;
    const current = tensors[i]!;
    if (current.begin < previous.end) {
      fail(`tensors '${previous.name}' and '${current.name}' overlap in the data block`);
    }
  }
  return { tensors, metadata };
}

export class SafetensorsFile {
  readonly #byName: Map<string, TensorInfo>;

  private constructor(
    readonly path: string,
    readonly tensors: readonly TensorInfo[],
    readonly metadata: Record<string, string>,
    readonly fileSize: number,
    private readonly handle: FileHandle,
  ) {
    this.#byName = new Map(tensors.map((t) => [t.name, t]));
  }

  /** Opens `path` and validates its header; no tensor data is read. */
  static async open(path: string): Promise<SafetensorsFile> {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size < 8)
        throw new SafetensorsError(
          path,
          `only ${size} bytes: too short for the 8-byte header length`,
        );
      const lengthBytes = Buffer.alloc(8);
      await handle.read(lengthBytes, 0, 8, 0);
      const headerLength = lengthBytes.readBigUInt64LE(0);
      if (headerLength > BigInt(MAX_HEADER_BYTES)) {
        throw new SafetensorsError(
          path,
          `header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte bound`,
        );
      }
      if (8n + headerLength > BigInt(size)) {
        throw new SafetensorsError(
          path,
          `header length ${headerLength} runs past the end of the ${size}-byte file (truncated?)`,
        );
      }
      const headerBytes = Buffer.alloc(Number(headerLength));
      await handle.read(headerBytes, 0, headerBytes.length, 8);
      let header: unknown;
      try {
        header = JSON.parse(headerBytes.toString('utf8'));
      } catch (error) {
        throw new SafetensorsError(
          path,
          `the header is not valid JSON (${(error as Error).message})`,
        );
      }
      const { tensors, metadata } = validateHeader(path, header, 8 + Number(headerLength), size);
      return new SafetensorsFile(path, tensors, metadata, size, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.#byName.get(name);
    if (!info) {
      const some = [...this.#byName.keys()].slice(0, 5).join(', ');
      throw new Error(
        `${this.path}: no tensor '${name}' (it has ${this.#byName.size}, e.g. ${some})`,
      );
    }
    return info;
  }

  /** Reads a tensor's raw bytes into `into` (e.g. a mapped GPU upload buffer) or a new array. */
  async readBytes(name: string, into?: Uint8Array): Promise<Uint8Array> {
    const { begin, end } = this.info(name);
    const length = end - begin;
    const target = into ?? new Uint8Array(length);
    if (target.byteLength < length)
      throw new Error(`readBytes('${name}'): target holds ${target.byteLength} < ${length} bytes`);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(target, done, length - done, begin + done);
      if (bytesRead === 0)
        throw new SafetensorsError(this.path, `unexpected end of file reading '${name}'`);
      done += bytesRead;
    }
    return target.subarray(0, length);
  }

  /** Reads a floating-point tensor as float32 (BF16 and F16 widened). */
  async readFloat32(name: string): Promise<Float32Array> {
    const { dtype } = this.info(name);
    const bytes = await this.readBytes(name);
    const aligned = bytes.slice().buffer;
    switch (dtype) {
      case 'F32':
        return new Float32Array(aligned);
      case 'F16':
        return f16ToF32(new Uint16Array(aligned));
      case 'BF16':
        return bf16ToF32(new Uint16Array(aligned));
      case 'F64':
        return Float32Array.from(new Float64Array(aligned));
      default:
        throw new Error(`${this.path}: tensor '${name}' is ${dtype}, not a float type`);
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

export interface TensorToWrite {
  dtype: SafetensorsDtype;
  shape: number[];
  data: ArrayBufferView;
}

/** Encodes tensors (in key order) into safetensors bytes; the header is padded to 8 bytes. */
export function encodeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new Error(
        `tensor '${name}': ${t.data.byteLength} bytes given, ${t.dtype}${JSON.stringify(t.shape)} needs ${expected}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
