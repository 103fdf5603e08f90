/**
 * The folder `closure fit --method pinn` writes, and reading it back as a closure for one regime:
 *   network.safetensors      the weights, with the network description as metadata
 *   pinn.json                terms, shared model, training settings, loss history, per-regime report
 *   training-data.safetensors the compact training data (pinnData.ts), for refits
 *   c1_<v>/closure.json      the closure the network gives at each training regime (`closure run`
 *                            takes these like any fitted closure)
 * `closure run --closure DIR --c1 X` evaluates the network at any c1 inside the trained range.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile } from '../../io/safetensors.ts';
import { writeRecords } from '../../nn/trainingState.ts';
import { InvalidConfigError } from '../../solvers/config.ts';
import type { HwParams } from '../../solvers/model.ts';
import type { ClosureFile } from '../closureFile.ts';
import { TERM_SIGN, writeClosureJson } from '../fitCommand.ts';
import { termLabel } from '../terms.ts';
import { type ClosureNetwork, networkCoefficients, networkShapes } from './closureNetwork.ts';
import type { PinnConfig, PinnResult } from './pinnTrainer.ts';

const regimeOf = (result: Pick<PinnResult, 'spec'>, c1: number, kappa: number): HwParams => ({
  kind: 'hw',
  c1,
  kappa,
  nu: result.spec.nu,
  hyperOrder: result.spec.hyperOrder,
  modified: result.spec.modified,
});

export async function writePinnFolder(
  out: string,
  result: PinnResult,
  config: PinnConfig,
  sources: string[],
): Promise<string> {
  await mkdir(out, { recursive: true });
  const { spec, net } = result;
  await writeRecords(
    join(out, 'network.safetensors'),
    networkShapes(net),
    { '': result.values },
    {
      driftflow_closure_network: JSON.stringify(net),
    },
  );
  const coarse = { nx: spec.nx, ny: spec.ny, lx: spec.lx, ly: spec.ly };
  const terms = spec.terms.map((t) => ({ ...t, label: termLabel(t) }));
  for (const r of result.regimes) {
    await writeClosureJson(join(out, `c1_${r.c1}`), {
      method: 'pinn',
      network: out,
      term_sign: TERM_SIGN,
      terms: spec.terms.map((t, j) => ({
        ...t,
        label: termLabel(t),
        coefficient: r.coefficients[j]!,
      })),
      regime: regimeOf(result, r.c1, r.kappa),
      coarse,
    });
  }
  const document = {
    method: 'pinn',
    term_sign: TERM_SIGN,
    terms,
    shared_model: { nu: spec.nu, hyperOrder: spec.hyperOrder, modified: spec.modified },
    coarse,
    network: net,
    c1_range: [
      Math.min(...result.regimes.map((r) => r.c1)),
      Math.max(...result.regimes.map((r) => r.c1)),
    ],
    kappa_range: [
      Math.min(...result.regimes.map((r) => r.kappa)),
      Math.max(...result.regimes.map((r) => r.kappa)),
    ],
    training: config,
    data: sources,
    stopped: result.stopped ?? null,
    regimes: result.regimes,
    history: result.history,
  };
  const path = join(out, 'pinn.json');
  await writeFile(path, `${JSON.stringify(document, null, 2)}\n`);
  return path;
}

export function isPinnFolder(location: string): boolean {
  return existsSync(join(location, 'pinn.json'));
}

/** The closure the network in `dir` gives at (c1, κ), refused outside the trained range. */
export async function readPinnClosure(
  dir: string,
  c1: number | undefined,
  kappa: number | undefined,
): Promise<ClosureFile> {
  const doc = JSON.parse(readFileSync(join(dir, 'pinn.json'), 'utf8')) as {
    terms: ClosureFile['terms'];
    coarse: ClosureFile['coarse'];
    shared_model: Pick<HwParams, 'nu' | 'hyperOrder' | 'modified'>;
    c1_range: [number, number];
    kappa_range: [number, number];
  };
  const inRange = (v: number, [lo, hi]: [number, number]) =>
    v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  if (c1 === undefined)
    throw new InvalidConfigError(
      `${dir} is a physics-informed closure for c1 in [${doc.c1_range.join(', ')}]: pass --c1`,
    );
  const k = kappa ?? (doc.kappa_range[0] === doc.kappa_range[1] ? doc.kappa_range[0] : undefined);
  if (k === undefined)
    throw new InvalidConfigError(
      `${dir} was trained for kappa in [${doc.kappa_range.join(', ')}]: pass --kappa`,
    );
  if (!inRange(c1, doc.c1_range) || !inRange(k, doc.kappa_range))
    throw new InvalidConfigError(
      `c1 = ${c1}, kappa = ${k} is outside the regimes the network was trained on (c1 in [${doc.c1_range.join(', ')}], kappa in [${doc.kappa_range.join(', ')}]): refit with data of this regime`,
    );
  const file = await SafetensorsFile.open(join(dir, 'network.safetensors'));
  try {
    const net = JSON.parse(
      file.metadata.driftflow_closure_network ?? 'null',
    ) as ClosureNetwork | null;
    if (!net) throw new InvalidConfigError(`${dir}/network.safetensors has no network description`);
    const values = new Map<string, Float32Array>();
    for (const [name] of networkShapes(net)) values.set(name, await file.readFloat32(name));
    return {
      path: join(dir, 'pinn.json'),
      terms: doc.terms.map(({ equation, field, power }) => ({ equation, field, power })),
      coefficients: networkCoefficients(net, values, c1, k),
      regime: { kind: 'hw', c1, kappa: k, ...doc.shared_model },
      coarse: doc.coarse,
    };
  } finally {
    await file.close();
  }
}
