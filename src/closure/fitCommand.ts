/**
 * `closure fit`: fits closure coefficients to one or more coarse-grained data files of one regime
 * and writes `OUT/closure.json` (terms, coefficients, how much of τ they explain, the regime and
 * the coarse grid) with the a-priori least-squares method (the physics-informed network is
 * src/closure/pinn/); `closure tune` rewrites such a file with a-posteriori coefficients
 * (`writeTunedClosure`).
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidConfigError } from '../solvers/config.ts';
import type { ClosureFile } from './closureFile.ts';
import { readCoarseData } from './dataset.ts';
import { fitLeastSquares } from './fit.ts';
import { type ClosureTerm, termLabel } from './terms.ts';
import type { TuneResult } from './tune.ts';

export const TERM_SIGN =
  '-c (-lap)^p f added to the RHS of its equation; c > 0 damps own-field terms';

export async function fitClosure(
  files: string[],
  method: string,
  terms: ClosureTerm[],
  out: string,
) {
  if (method !== 'lstsq')
    throw new InvalidConfigError(
      `--method ${method} is not a fit of closureFit: use lstsq here (pinn has its own command path, src/closure/pinn/pinnFit.ts)`,
    );
  const data = await Promise.all(files.map(readCoarseData));
  const first = data[0]!;
  const regime = (d: (typeof data)[number]) => JSON.stringify(d.dnsConfig.model);
  data.forEach((d, i) => {
    if (d.grid.nx !== first.grid.nx || d.grid.ny !== first.grid.ny || d.grid.lx !== first.grid.lx)
      throw new InvalidConfigError(`${files[i]} has another coarse grid than ${files[0]}`);
    if (regime(d) !== regime(first))
      throw new InvalidConfigError(
        `${files[i]} is another regime than ${files[0]} (${regime(d)} vs ${regime(first)}): fit each regime on its own`,
      );
  });
  const samples = data.flatMap((d) => d.samples);
  const result = fitLeastSquares(samples, terms, first.grid);
  const document = {
    method,
    term_sign: TERM_SIGN,
    terms: terms.map((t, j) => ({
      ...t,
      label: termLabel(t),
      coefficient: result.coefficients[j]!,
    })),
    relative_residual: result.relativeResidual,
    regime: first.dnsConfig.model,
    coarse: { nx: first.grid.nx, ny: first.grid.ny, lx: first.grid.lx, ly: first.grid.ly },
    data: files,
    samples: samples.length,
  };
  return { path: await writeClosureJson(out, document), ...document };
}

/** Writes `OUT/closure.json` (creating OUT); returns its path. */
export async function writeClosureJson(out: string, document: object): Promise<string> {
  await mkdir(out, { recursive: true });
  const path = join(out, 'closure.json');
  await writeFile(path, `${JSON.stringify(document, null, 2)}\n`);
  return path;
}

/** closure.json of a tuned closure: the starting file's fields, the best coefficients, the history. */
export async function writeTunedClosure(start: ClosureFile, result: TuneResult, out: string) {
  const original = JSON.parse(readFileSync(start.path, 'utf8')) as Record<string, unknown>;
  const document = {
    ...original,
    method: 'tune',
    started_from: { path: start.path, method: original.method, coefficients: start.coefficients },
    terms: start.terms.map((t, j) => ({
      ...t,
      label: termLabel(t),
      coefficient: result.best.coefficients[j]!,
    })),
    relative_residual: undefined,
    tune: result,
  };
  return writeClosureJson(out, document);
}
