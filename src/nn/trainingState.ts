/**
 * Resumable training runs, shared by every trainer (the MoE language model, FOT-CFM): the state
 * (named records of F32 tensors, e.g. weights and Adam moments, plus the step) in
 * `<out>/training/state.safetensors` and the loss log in `<out>/training/log.json`, both replaced
 * atomically; a run resumes only with the settings it was started with.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.ts';
import { SafetensorsFile, type TensorToWrite, writeSafetensors } from '../io/safetensors.ts';

export type Shapes = [string, number[]][];
/** Tensors by record prefix ('p' weights, 'm'/'v' Adam moments, ...), then by parameter name. */
export type Records = Record<string, Map<string, Float32Array>>;

export const stateFile = (out: string): string => join(out, 'training', 'state.safetensors');
const logFile = (out: string): string => join(out, 'training', 'log.json');

/** Writes tensors of several records (prefix/name; an empty prefix writes bare names). */
export async function writeRecords(
  path: string,
  shapes: Shapes,
  records: Records,
  metadata: Record<string, string>,
): Promise<void> {
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, shape] of shapes)
    for (const [prefix, record] of Object.entries(records)) {
      const data = record.get(name);
      if (!data) throw new Error(`record '${prefix}' has no tensor ${name}`);
      tensors[prefix ? `${prefix}/${name}` : name] = { dtype: 'F32', shape, data };
    }
  await writeSafetensors(path, tensors, metadata);
}

/** Reads records written by writeRecords, with the file's metadata. */
export async function readRecords(
  path: string,
  shapes: Shapes,
  prefixes: string[],
): Promise<{ records: Records; metadata: Record<string, string> }> {
  const file = await SafetensorsFile.open(path);
  try {
    const records: Records = {};
    for (const prefix of prefixes) {
      const values = new Map<string, Float32Array>();
      for (const [name] of shapes)
        values.set(name, await file.readFloat32(prefix ? `${prefix}/${name}` : name));
      records[prefix] = values;
    }
    return { records, metadata: file.metadata ?? {} };
  } finally {
    await file.close();
  }
}

export async function saveTrainingState<L>(
  out: string,
  shapes: Shapes,
  records: Records,
  settings: string,
  step: number,
  log: L[],
): Promise<void> {
  await writeRecords(stateFile(out), shapes, records, { settings, step: String(step) });
  await writeFileAtomic(logFile(out), JSON.stringify(log));
}

/**
 * The saved state of the run in `out`, or null when there is none. Refuses an existing run
 * without `resume`, and one started with other settings.
 */
export async function loadTrainingState<L>(
  out: string,
  shapes: Shapes,
  prefixes: string[],
  settings: string,
  resume: boolean,
): Promise<{ step: number; records: Records; log: L[] } | null> {
  if (!existsSync(stateFile(out))) return null;
  if (!resume)
    throw new Error(`${out} already holds a training run: pass --resume or choose another --out`);
  const { records, metadata } = await readRecords(stateFile(out), shapes, prefixes);
  if (metadata.settings !== settings)
    throw new Error(
      `cannot resume ${out}: it was started with other settings (saved: ${metadata.settings}); ` +
        'use the same flags or a new --out',
    );
  const log = JSON.parse(await readFile(logFile(out), 'utf8')) as L[];
  return { step: Number(metadata.step), records, log };
}
