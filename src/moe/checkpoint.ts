/**
 * A Hugging Face model folder opened for inference: config.json parsed into a `MoeSpec`, the
 * safetensors shards found (through `model.safetensors.index.json` or by listing `*.safetensors`),
 * and every tensor the spec needs checked for presence, float dtype and shape before anything is
 * read. Tensors are then read one at a time by byte range (experts straight into upload buffers),
 * so a 90 GB checkpoint is never read whole.
 *
 * Precision policy (the same in every engine): matrices are held as f16 (BF16/F32 files are
 * rounded once here), norm weights and biases as f32.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bf16ToF32, f16ToF32, f32ToF16 } from '../io/halfFloat.ts';
import { SafetensorsFile, type TensorInfo } from '../io/safetensors.ts';
import { type MoeSpec, ModelConfigError, parseModelConfig } from './config.ts';
import { expectedTensors, expertNames } from './tensorNames.ts';

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CheckpointError(`${what} not found: ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`${path} is not valid JSON (${(error as Error).message})`);
  }
}

async function shardFiles(dir: string): Promise<Map<string, string> | string[]> {
  const indexPath = join(dir, 'model.safetensors.index.json');
  const entries = await readdir(dir).catch(() => {
    throw new CheckpointError(`model folder not found: ${dir}`);
  });
  if (entries.includes('model.safetensors.index.json')) {
    const index = (await readJson(indexPath, 'index')) as { weight_map?: Record<string, string> };
    if (!index.weight_map || typeof index.weight_map !== 'object') {
      throw new CheckpointError(`${indexPath} has no weight_map`);
    }
    return new Map(Object.entries(index.weight_map));
  }
  const files = entries.filter((f) => f.endsWith('.safetensors')).sort();
  if (files.length === 0) {
    throw new CheckpointError(`${dir} has no *.safetensors files (and no index)`);
  }
  return files;
}

export class Checkpoint {
  readonly #byName: Map<string, { file: SafetensorsFile; info: TensorInfo }>;

  private constructor(
    readonly dir: string,
    readonly spec: MoeSpec,
    readonly config: Record<string, unknown>,
    byName: Map<string, { file: SafetensorsFile; info: TensorInfo }>,
    private readonly files: SafetensorsFile[],
  ) {
    this.#byName = byName;
  }

  static async open(dir: string): Promise<Checkpoint> {
    const config = (await readJson(join(dir, 'config.json'), 'config.json')) as Record<
      string,
      unknown
    >;
    let spec: MoeSpec;
    try {
      spec = parseModelConfig(config);
    } catch (error) {
      if (error instanceof ModelConfigError) {
        throw new CheckpointError(`${join(dir, 'config.json')}: ${error.message}`);
      }
      throw error;
    }
    const shards = await shardFiles(dir);
    const fileNames = shards instanceof Map ? [...new Set(shards.values())] : shards;
    const files: SafetensorsFile[] = [];
    const byName = new Map<string, { file: SafetensorsFile; info: TensorInfo }>();
    try {
      for (const name of fileNames) {
        const file = await SafetensorsFile.open(join(dir, name));
        files.push(file);
        for (const info of file.tensors) byName.set(info.name, { file, info });
      }
      checkTensors(spec, byName);
    } catch (error) {
      await Promise.all(files.map((f) => f.close()));
      throw error;
    }
    return new Checkpoint(dir, spec, config, byName, files);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  #entry(name: string): { file: SafetensorsFile; info: TensorInfo } {
    const entry = this.#byName.get(name);
    if (!entry) throw new CheckpointError(`${this.dir}: no tensor '${name}'`);
    return entry;
  }

  /** A tensor exactly as stored, widened to f32 (norm weights, biases). */
  async readF32(name: string): Promise<Float32Array> {
    const { file } = this.#entry(name);
    return file.readFloat32(name);
  }

  /** A matrix as f16 bits (BF16/F32 rounded to nearest even). */
  async readF16(name: string): Promise<Uint16Array> {
    const { file, info } = this.#entry(name);
    if (info.dtype === 'F16') return new Uint16Array((await file.readBytes(name)).slice().buffer);
    const bytes = await file.readBytes(name);
    const wide =
      info.dtype === 'BF16'
        ? bf16ToF32(new Uint16Array(bytes.slice().buffer))
        : new Float32Array(bytes.slice().buffer);
    return f32ToF16(wide);
  }

  /** A matrix rounded to f16 and widened back: what the GPU computes with, for the reference. */
  async readMatrixF32(name: string): Promise<Float32Array> {
    return f16ToF32(await this.readF16(name));
  }

  /** One expert's gate, up and down matrices as f16, concatenated in that order. */
  async readExpertF16(layer: number, expert: number, into?: Uint16Array): Promise<Uint16Array> {
    const names = expertNames(this.spec, layer, expert);
    const size = this.spec.hidden * this.spec.expertIntermediate;
    const out = into ?? new Uint16Array(3 * size);
    out.set(await this.readF16(names.gate), 0);
    out.set(await this.readF16(names.up), size);
    out.set(await this.readF16(names.down), 2 * size);
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}

function checkTensors(
  spec: MoeSpec,
  byName: Map<string, { file: SafetensorsFile; info: TensorInfo }>,
): void {
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [name, shape] of expectedTensors(spec)) {
    const entry = byName.get(name);
    if (!entry) {
      missing.push(name);
      continue;
    }
    const { info } = entry;
    if (!FLOAT_DTYPES.has(info.dtype)) {
      wrong.push(`${name}: dtype ${info.dtype} (expected F32, F16 or BF16)`);
    } else if (info.shape.join(',') !== shape.join(',')) {
      wrong.push(`${name}: shape [${info.shape.join(', ')}], config implies [${shape.join(', ')}]`);
    }
  }
  if (missing.length > 0 || wrong.length > 0) {
    const lines = [
      ...missing.slice(0, 8).map((n) => `  missing ${n}`),
      ...(missing.length > 8 ? [`  ... and ${missing.length - 8} more missing`] : []),
      ...wrong.slice(0, 8).map((w) => `  ${w}`),
      ...(wrong.length > 8 ? [`  ... and ${wrong.length - 8} more mismatches`] : []),
    ];
    throw new CheckpointError(
      `checkpoint does not match its config.json (${spec.arch}):\n${lines.join('\n')}`,
    );
  }
}
