/**
 * Atomic file replacement: write beside the target, fsync, then rename over it. A run killed
 * mid-write leaves the previous file intact (checkpoints, HDF5 outputs, benchmark JSON).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A temporary path next to `target` (same filesystem, so rename is atomic). */
export function tempPathFor(target: string): string {
  return `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Flushes the finished temporary file to disk and renames it onto `target`. */
export async function commitTempFile(temp: string, target: string): Promise<void> {
  const handle = await open(temp, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, target);
}

/** Runs `write(tempPath)`, then `commitTempFile`; removes the temporary file on failure. */
export async function replaceAtomically(
  target: string,
  write: (tempPath: string) => Promise<void> | void,
): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  try {
    await write(temp);
    await commitTempFile(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await replaceAtomically(target, (temp) => writeFile(temp, data));
}
