/**
 * A-posteriori calibration of a closure (`closure tune`): the a-priori least-squares fit matches the
 * sub-grid terms instant by instant, which is not what a coarse run needs (at c1 = 1 it leaves
 * 93-97% of ‖τ‖ unexplained and the run under-predicts the fluxes by half). Here the coefficients
 * are adjusted by Nelder–Mead so that whole coarse runs reproduce the DNS statistics the report
 * checks: time averages of Γn, Γc, E, U and the ky-spectra of n, φ and kinetic energy on the
 * coarse modes.
 *
 * Loss of one candidate = mean over the four averages of (ln(run/DNS) / ln 1.1)² plus the mean over
 * spectra and ky of (ln(run/DNS) / ln 1.5)²: 1 means "at the tolerances on average". With
 * `spectrumLoss: 'worst'` the spectral part is the mean over the three spectra of the worst ky's
 * (ln(run/DNS) / ln 1.5)² instead, the quantity the target judges (a factor 1.5 at every ky), so an
 * excess confined to a few ky is not averaged away. A candidate can be scored on several seeded
 * runs (`seeds`): its averages and spectra are the means over them, which lowers the loss's noise
 * (one 700-time-unit window scatters by a few %, as large as the differences late in a tune).
 * A closure the solver refuses (not damping at the grid scale, dt past its limit) or a run that
 * blows up gets a penalty that grows the further it is from acceptable or the earlier it fails.
 * Every candidate starts from the same seeded state, so differences between candidates are the
 * closure's, not the noise's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceLabel, type ComputeDevice } from '../runtime/device.ts';
import {
  closureGridGrowth,
  gridOf,
  InvalidConfigError,
  linearStabilityLimit,
  type SimulationConfig,
  validateConfig,
} from '../solvers/config.ts';
import type { Integrator } from '../solvers/integrator.ts';
import { BlowUpError, runSimulation } from '../solvers/run.ts';
import { prepareFresh } from '../solvers/session.ts';
import { SpectralGrid } from '../spectral/grid.ts';
import type { ClosureFile } from './closureFile.ts';
import { minimizeNelderMead } from './nelderMead.ts';
import {
  AVERAGED,
  type Averages,
  type Comparison,
  compareWithDns,
  readRunRecord,
  type RunRecord,
  SPECTRUM_FIELDS,
} from './reportStats.ts';

export interface TuneOptions {
  start: ClosureFile;
  dns: string;
  /** Start of the averaging window (both runs). */
  from: number;
  dt: number;
  /** Integrator of the candidate runs (default: the DNS's). */
  integrator?: Integrator;
  /** Candidate end time (default: the DNS end time). */
  tEnd?: number;
  saveEvery: number;
  maxEvaluations: number;
  /** Initial simplex step, as a fraction of each starting coefficient. */
  relativeStep: number;
  /** Seeds of the runs averaged per candidate (default: the DNS's seed alone). */
  seeds?: number[];
  spectrumLoss?: SpectrumLoss;
  device: ComputeDevice;
  threads?: number;
  onEvaluation?: (record: CandidateRecord, index: number, best: number) => void;
}

export interface CandidateRecord {
  coefficients: number[];
  loss: number;
  status: 'ran' | 'refused' | 'blew up';
  /** Why it was refused or where it blew up. */
  message?: string;
  relative?: Comparison['relative'];
  spectrumFactor?: Comparison['spectrumFactor'];
  wallSeconds?: number;
}

export const SPECTRUM_LOSSES = ['mean', 'worst'] as const;
export type SpectrumLoss = (typeof SPECTRUM_LOSSES)[number];

const SCALAR_TOLERANCE = Math.log(1.1);
const SPECTRUM_TOLERANCE = Math.log(1.5);
const PENALTY = 1e3;

/** The loss of a finished candidate run against the DNS (see the header). */
export function candidateLoss(
  run: RunRecord,
  dns: RunRecord,
  spectrumLoss: SpectrumLoss = 'mean',
): number {
  let scalars = 0;
  for (const q of AVERAGED) {
    const r = run.averages[q] / dns.averages[q];
    if (!(r > 0)) return PENALTY;
    scalars += (Math.log(r) / SCALAR_TOLERANCE) ** 2;
  }
  let spectra = 0;
  let count = 0;
  if (run.spectra && dns.spectra)
    for (const f of SPECTRUM_FIELDS) {
      const errors = Array.from(run.spectra[f].subarray(1), (v, i) => {
        const r = v / dns.spectra![f][i + 1]!;
        return r > 0 ? (Math.log(r) / SPECTRUM_TOLERANCE) ** 2 : PENALTY;
      });
      if (spectrumLoss === 'worst') {
        spectra += Math.max(0, ...errors);
        count++;
      } else {
        spectra += errors.reduce((a, b) => a + b, 0);
        count += errors.length;
      }
    }
  return scalars / AVERAGED.length + (count > 0 ? spectra / count : 0);
}

/** The mean of seeded runs of one candidate: averages and spectra averaged over the runs. */
export function meanRecord(runs: RunRecord[]): RunRecord {
  const first = runs[0]!;
  if (runs.length === 1) return first;
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const meanOf = (pick: (r: RunRecord) => Averages) =>
    Object.fromEntries(AVERAGED.map((q) => [q, mean(runs.map((r) => pick(r)[q]))])) as Averages;
  const averages = meanOf((r) => r.averages);
  const resolvedAverages = runs.every((r) => r.resolvedAverages)
    ? meanOf((r) => r.resolvedAverages!)
    : null;
  const spectra = first.spectra
    ? (Object.fromEntries(
        SPECTRUM_FIELDS.map((f) => [
          f,
          first.spectra![f].map((_, k) => mean(runs.map((r) => r.spectra![f][k]!))),
        ]),
      ) as RunRecord['spectra'])
    : null;
  const wall = runs.map((r) => r.wallSeconds);
  const wallSeconds = wall.every((w) => w !== null) ? mean(wall as number[]) : null;
  return { ...first, averages, resolvedAverages, spectra, wallSeconds };
}

/**
 * A refused candidate's loss: above every run's, and growing with how far it is from acceptable
 * (grid-scale growth rate, dt past the linear limit), so the simplex can walk out of a refused start.
 */
function refusalPenalty(config: SimulationConfig): number {
  const grid = gridOf(config);
  const growth = Math.max(0, closureGridGrowth(config.model, grid.maxK2));
  const limit = growth > 0 ? config.dt : linearStabilityLimit(config, grid);
  return 10 * PENALTY * (1 + growth * config.dt + Math.max(0, config.dt / limit - 1));
}

export async function tuneClosure(options: TuneOptions) {
  const { start, device } = options;
  const reportGrid = new SpectralGrid({ ...start.coarse, dealias: '2/3' });
  const dns = await readRunRecord('DNS', options.dns, options.from, () => reportGrid);
  if (dns.config.model.kind !== 'hw' || !dns.spectra)
    throw new InvalidConfigError(
      `${options.dns} has no snapshots at t >= ${options.from}: the tune compares spectra, run the DNS with --save-every`,
    );
  const dnsModel = { ...dns.config.model };
  delete dnsModel.closure;
  for (const key of ['c1', 'kappa', 'modified'] as const)
    if (dnsModel[key] !== start.regime[key])
      throw new InvalidConfigError(
        `the closure was fitted for ${key} = ${start.regime[key]} but the DNS has ${dnsModel[key]}: tune with the DNS of its regime`,
      );
  const base: SimulationConfig = {
    ...dns.config,
    model: dnsModel,
    nx: start.coarse.nx,
    ny: start.coarse.ny,
    scheme: 'spectral',
    dt: options.dt,
    integrator: options.integrator ?? dns.config.integrator,
    tEnd: options.tEnd ?? dns.config.tEnd,
    saveEvery: options.saveEvery,
  };
  validateConfig(base); // dt past the limit of the model itself: no closure can fix that
  const scale = start.coefficients.map((c) => Math.abs(c) || 1e-3);
  const toCoefficients = (x: number[]) => x.map((v, j) => start.coefficients[j]! + scale[j]! * v);
  const workDir = await mkdtemp(join(tmpdir(), 'driftflow-tune-'));
  const records: CandidateRecord[] = [];

  const seeds = options.seeds ?? [base.seed];
  const spectrumLoss = options.spectrumLoss ?? 'mean';

  /** One seeded run of a candidate: its record, or the record of its refusal or blow-up. */
  const runSeed = async (
    coefficients: number[],
    seed: number,
  ): Promise<{ run: RunRecord; wallSeconds: number } | CandidateRecord> => {
    const config: SimulationConfig = {
      ...base,
      seed,
      model: { ...dnsModel, closure: { terms: start.terms, coefficients } },
    };
    const file = join(workDir, 'candidate.h5');
    let prepared;
    try {
      prepared = await prepareFresh(config, device, file, {}, options.threads);
    } catch (error) {
      if (!(error instanceof InvalidConfigError)) throw error;
      return {
        coefficients,
        loss: refusalPenalty(config),
        status: 'refused',
        message: error.message,
      };
    }
    const total = Math.round(config.tEnd / config.dt);
    let reached = 0;
    try {
      const summary = await runSimulation({
        ...prepared,
        statsFrom: options.from,
        checkpointEverySeconds: 1e9,
        onProgress: (step) => (reached = step),
      });
      const run = await readRunRecord('candidate', file, options.from, () => reportGrid);
      return { run, wallSeconds: summary.wallSeconds };
    } catch (error) {
      if (!(error instanceof BlowUpError)) throw error;
      const loss = PENALTY * (2 - reached / total);
      return { coefficients, loss, status: 'blew up', message: `seed ${seed}: ${error.message}` };
    } finally {
      prepared.stepper.destroy();
    }
  };

  const evaluate = async (coefficients: number[]): Promise<CandidateRecord> => {
    const runs: RunRecord[] = [];
    let wallSeconds = 0;
    for (const seed of seeds) {
      const outcome = await runSeed(coefficients, seed);
      if (!('run' in outcome)) return outcome;
      runs.push(outcome.run);
      wallSeconds += outcome.wallSeconds;
    }
    const run = meanRecord(runs);
    const { relative, spectrumFactor } = compareWithDns(run, dns);
    return {
      coefficients,
      loss: candidateLoss(run, dns, spectrumLoss),
      status: 'ran',
      relative,
      spectrumFactor,
      wallSeconds,
    };
  };

  try {
    let best = Infinity;
    const result = await minimizeNelderMead(
      async (x) => {
        const record = await evaluate(toCoefficients(x));
        records.push(record);
        best = Math.min(best, record.loss);
        options.onEvaluation?.(record, records.length - 1, best);
        return record.loss;
      },
      start.coefficients.map(() => 0),
      {
        step: start.coefficients.map(() => options.relativeStep),
        maxEvaluations: options.maxEvaluations,
      },
    );
    // The minimiser's evaluations and `records` are appended in step: same index, same candidate.
    const bestIndex = result.evaluations.indexOf(result.best);
    return {
      device: deviceLabel(device),
      dns: options.dns,
      dnsAverages: dns.averages,
      config: base,
      seeds,
      spectrumLoss,
      start: records[0]!,
      best: records[bestIndex]!,
      evaluations: records,
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

export type TuneResult = Awaited<ReturnType<typeof tuneClosure>>;
