/**
 * `closure fit --method pinn`: reads the regimes' data (prepare files or a training-data file),
 * trains the closure network with progress lines, and writes the folder of pinnFolder.ts with the
 * training data beside it. Also formats the per-regime table the command prints.
 */
import { join } from 'node:path';
import { createProgress } from '../../cli/output.ts';
import { termLabel, type ClosureTerm } from '../terms.ts';
import {
  readRegimeData,
  readTrainingData,
  type RegimeData,
  writeTrainingData,
} from './pinnData.ts';
import { writePinnFolder } from './pinnFolder.ts';
import { type PinnConfig, type RegimeReport, trainClosureNetwork } from './pinnTrainer.ts';

export async function fitPinnClosure(
  files: string[],
  terms: ClosureTerm[],
  config: PinnConfig,
  out: string,
  log: (line: string) => void,
) {
  const data: RegimeData[] = [];
  for (const file of files)
    data.push(
      ...(file.endsWith('.safetensors')
        ? await readTrainingData(file)
        : [await readRegimeData(file, terms)]),
    );
  log(
    `${data.length} regimes: ${data.map((d) => `c1=${d.model.c1} (${d.times.length} snapshots every ${d.spacing.toPrecision(3)})`).join(', ')}`,
  );
  const progress = createProgress('closure network', config.pretrainSteps + config.steps);
  const result = await trainClosureNetwork(data, terms, config, (step, _total, info) =>
    progress.update(step, info),
  );
  progress.stop();
  if (result.stopped) log(`stopped early: ${result.stopped}`);
  await writeTrainingData(join(out, 'training-data.safetensors'), data);
  const path = await writePinnFolder(out, result, config, files);
  return {
    path,
    stopped: result.stopped ?? null,
    regimes: result.regimes,
    history: result.history,
  };
}

export function formatPinnRegimes(regimes: RegimeReport[], terms: ClosureTerm[]): string {
  const lines = [`terms: ${terms.map(termLabel).join('; ')}`];
  for (const r of regimes) {
    const c = (v: number[] | null) => (v ? v.map((x) => x.toPrecision(3)).join(' ') : '-');
    lines.push(`c1=${r.c1} kappa=${r.kappa}: network ${c(r.coefficients)} | lstsq ${c(r.lstsq)}`);
    lines.push(
      `  held-out rollout loss: network ${r.validation.network.toPrecision(4)}, lstsq ${r.validation.lstsq?.toPrecision(4) ?? '-'}, none ${r.validation.none.toPrecision(4)}`,
    );
  }
  return lines.join('\n');
}
