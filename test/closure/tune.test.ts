// A-posteriori closure calibration: the Nelder–Mead minimiser finds a known minimum within its
// budget, and `tuneClosure` scores a candidate by whole runs: zero loss for the closure that made the
// reference run, a positive loss for a perturbed one, which the tune then lowers; a refused start
// is left behind. The 'worst' spectral loss scores the worst ky (the target's measure), and a
// candidate scored on several seeds is the mean of its runs.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ClosureFile } from '../../src/closure/closureFile.ts';
import { minimizeNelderMead } from '../../src/closure/nelderMead.ts';
import type { RunRecord } from '../../src/closure/reportStats.ts';
import { candidateLoss, meanRecord, tuneClosure } from '../../src/closure/tune.ts';
import { openDevice } from '../../src/runtime/device.ts';
import type { SimulationConfig } from '../../src/solvers/config.ts';
import type { ClosureTerm, HwParams } from '../../src/solvers/model.ts';
import { runSimulation } from '../../src/solvers/run.ts';
import { prepareFresh } from '../../src/solvers/session.ts';

describe('Nelder-Mead', () => {
  it('finds the minimum of a shifted, scaled quadratic and keeps to its budget', async () => {
    const f = async ([x, y]: number[]) => (x! - 1) ** 2 + 10 * (y! + 2) ** 2 + 3;
    const { best, evaluations } = await minimizeNelderMead(f, [0, 0], {
      step: [0.5, 0.5],
      maxEvaluations: 150,
    });
    assert.ok(evaluations.length <= 150);
    assert.ok(Math.abs(best.x[0]! - 1) < 1e-3 && Math.abs(best.x[1]! + 2) < 1e-3, `${best.x}`);
    assert.ok(Math.abs(best.value - 3) < 1e-6);
    const short = await minimizeNelderMead(f, [0, 0], { step: [1, 1], maxEvaluations: 7 });
    assert.equal(short.evaluations.length, 7);
  });
});

describe('candidate loss', () => {
  const record = (scale: number, spectrum: number[]) =>
    ({
      averages: { gamma_n: scale, gamma_c: 1, energy: 1, enstrophy: 1 },
      spectra: {
        n: Float64Array.from(spectrum),
        phi: new Float64Array(5).fill(1),
        kinetic: new Float64Array(5).fill(1),
      },
      wallSeconds: scale,
    }) as unknown as RunRecord;
  const dns = record(1, [1, 1, 1, 1, 1]);

  it('scores a one-ky excess of 1.5x as 1 in the worst spectrum, averaged away by the mean', () => {
    const run = record(1, [1, 1, 1, 1, 1.5]);
    assert.ok(Math.abs(candidateLoss(run, dns, 'worst') - 1 / 3) < 1e-12);
    assert.ok(Math.abs(candidateLoss(run, dns, 'mean') - 1 / 12) < 1e-12);
    const flux = record(1.1, [1, 1, 1, 1, 1]); // Γn 10% high: one of four averages at tolerance
    assert.ok(Math.abs(candidateLoss(flux, dns, 'worst') - 1 / 4) < 1e-12);
  });

  it('averages seeded runs quantity by quantity and ky by ky', () => {
    const mean = meanRecord([record(1, [1, 2, 3, 4, 5]), record(3, [3, 2, 1, 0, 1])]);
    assert.equal(mean.averages.gamma_n, 2);
    assert.equal(mean.averages.energy, 1);
    assert.deepEqual(Array.from(mean.spectra!.n), [2, 2, 2, 2, 3]);
    assert.equal(mean.wallSeconds, 2);
  });
});

describe('closure tune', () => {
  const terms: ClosureTerm[] = [
    { equation: 'n', field: 'n', power: 2 },
    { equation: 'omega', field: 'omega', power: 2 },
  ];
  const truth = [0.02, 0.01];
  const model: HwParams = { kind: 'hw', c1: 1, kappa: 1, nu: 0, hyperOrder: 3, modified: false };
  const box = (2 * Math.PI) / 0.15;
  const config: SimulationConfig = {
    model: { ...model, closure: { terms, coefficients: truth } },
    ...{ nx: 16, ny: 16, lx: box, ly: box, scheme: 'spectral', integrator: 'rk4' },
    ...{ dt: 0.05, tEnd: 40, seed: 3, init: 'noise', initAmplitude: 0.5 },
    ...{ saveEvery: 2, diagEvery: 10 },
  };

  it('scores the generating closure 0, a perturbed one > 0, and lowers the loss', async () => {
    const device = await openDevice({ prefer: 'wasm' });
    const dns = join(mkdtempSync(join(tmpdir(), 'driftflow-tune-')), 'reference.h5');
    const prepared = await prepareFresh(config, device, dns, {});
    await runSimulation({ ...prepared, statsFrom: 20, checkpointEverySeconds: 1e9 });
    prepared.stepper.destroy();
    const closure = (coefficients: number[]): ClosureFile => ({
      path: '',
      terms,
      coefficients,
      regime: model,
      coarse: { nx: 16, ny: 16, lx: box, ly: box },
    });
    const common = { dns, from: 20, dt: 0.05, saveEvery: 2, relativeStep: 0.5, device };
    const exact = await tuneClosure({ ...common, start: closure(truth), maxEvaluations: 1 });
    assert.equal(exact.start.status, 'ran');
    assert.equal(exact.start.loss, 0);

    const tuned = await tuneClosure({
      ...common,
      start: closure([0.04, 0.02]),
      maxEvaluations: 14,
    });
    assert.ok(tuned.start.loss > 0.1, `perturbed loss ${tuned.start.loss}`);
    assert.equal(tuned.evaluations.length, 14);
    assert.ok(
      tuned.best.loss < 0.5 * tuned.start.loss,
      `${tuned.start.loss} -> ${tuned.best.loss}`,
    );

    // Scored on two seeds, the generating closure is the mean of the reference's seed and another.
    const twoSeeds = await tuneClosure({
      ...common,
      start: closure(truth),
      maxEvaluations: 1,
      seeds: [3, 4],
    });
    assert.ok(twoSeeds.start.loss > 0, `${twoSeeds.start.loss}`);
    const sameSeed = await tuneClosure({
      ...common,
      start: closure(truth),
      maxEvaluations: 1,
      seeds: [3, 3],
    });
    assert.equal(sameSeed.start.loss, 0);

    // A start the solver refuses (anti-damping ∇⁴ on n) is walked out of by the graded penalty.
    const refused = await tuneClosure({
      ...common,
      start: closure([-0.01, 0.01]),
      maxEvaluations: 12,
    });
    assert.equal(refused.start.status, 'refused');
    assert.equal(
      refused.best.status,
      'ran',
      JSON.stringify(refused.evaluations.map((e) => e.status)),
    );
  });
});
