/**
 * Reads a fitted closure (`closure fit`'s closure.json, given as the file or its folder) and turns
 * it into the HW model of an EHW-C run: the closure's regime, coarse grid and box are the defaults,
 * and flags given explicitly must agree with the regime the closure was fitted in.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidConfigError } from '../solvers/config.ts';
import type { ClosureTerm, HwParams } from '../solvers/model.ts';

export interface ClosureFile {
  path: string;
  terms: ClosureTerm[];
  coefficients: number[];
  regime: HwParams;
  coarse: { nx: number; ny: number; lx: number; ly: number };
}

export function readClosureFile(location: string): ClosureFile {
  const path =
    existsSync(location) && statSync(location).isDirectory()
      ? join(location, 'closure.json')
      : location;
  if (!existsSync(path))
    throw new InvalidConfigError(`no closure at ${path}: pass the folder written by closure fit`);
  const doc = JSON.parse(readFileSync(path, 'utf8')) as {
    terms?: (ClosureTerm & { coefficient: number })[];
    regime?: HwParams;
    coarse?: ClosureFile['coarse'];
  };
  if (!doc.terms || !doc.regime || !doc.coarse)
    throw new InvalidConfigError(`${path} is not a closure written by \`driftflow closure fit\``);
  return {
    path,
    terms: doc.terms.map(({ equation, field, power }) => ({ equation, field, power })),
    coefficients: doc.terms.map((t) => t.coefficient),
    regime: doc.regime,
    coarse: doc.coarse,
  };
}
