// The run loop as users rely on it: HDF5 output layout, exact continuation after a kill (resume),
// and a blow-up that stops with a clear message while keeping the last good checkpoint.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readH5 } from '../../src/io/hdf5.ts';
import { openDevice } from '../../src/runtime/device.ts';
import type { SimulationConfig } from '../../src/solvers/config.ts';
import { BlowUpError, runSimulation } from '../../src/solvers/run.ts';
import { prepareFresh, prepareResume } from '../../src/solvers/session.ts';

const cpu = await openDevice({ prefer: 'wasm' });
const config: SimulationConfig = {
  model: { kind: 'hw', c1: 1, kappa: 1, nu: 1e-3, hyperOrder: 2, modified: false },
  nx: 32,
  ny: 32,
  lx: (2 * Math.PI) / 0.15,
  ly: (2 * Math.PI) / 0.15,
  scheme: 'spectral',
  integrator: 'rk4',
  dt: 0.05,
  tEnd: 4,
  seed: 3,
  init: 'noise',
  initAmplitude: 0.5,
  saveEvery: 1,
  diagEvery: 5,
};

async function run(c: SimulationConfig, out: string) {
  const prepared = await prepareFresh(c, cpu, out, { command: 'test' });
  return runSimulation({ ...prepared, statsFrom: 0, checkpointEverySeconds: 1e9 });
}

describe('simulation runs', () => {
  it('write fields, spectra, time series and attributes readable as documented', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftflow-run-'));
    const summary = await run(config, join(dir, 'a.h5'));
    assert.equal(summary.steps, 80);
    const file = await readH5(join(dir, 'a.h5'));
    assert.deepEqual(file.get('/fields/n').shape, [5, 32, 32]);
    assert.deepEqual(Array.from(file.get('/fields/time').data), [0, 1, 2, 3, 4]);
    assert.equal(file.get('/timeseries/gamma_n').shape[0], 16);
    assert.equal(file.attrs.c1, 1);
    assert.equal(JSON.parse(file.attrs.config_json as string).nx, 32);
    file.close();
  });

  it('a resumed run ends bit-for-bit where the uninterrupted run does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftflow-resume-'));
    await run(config, join(dir, 'whole.h5'));
    await run({ ...config, tEnd: 2 }, join(dir, 'part.h5'));
    const resumed = await prepareResume(join(dir, 'part.h5'), cpu, { tEnd: 4 });
    assert.equal(resumed.start.step, 40);
    await runSimulation({ ...resumed, statsFrom: 0, checkpointEverySeconds: 1e9 });
    const [whole, part] = [await readH5(join(dir, 'whole.h5')), await readH5(join(dir, 'part.h5'))];
    for (const path of [
      '/checkpoint/n',
      '/checkpoint/omega',
      '/timeseries/energy_n',
      '/fields/omega',
    ])
      assert.deepEqual(Array.from(part.get(path).data), Array.from(whole.get(path).data), path);
    whole.close();
    part.close();
  });

  it('a resumed run may take denser snapshots from its checkpoint on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftflow-dense-'));
    await run({ ...config, tEnd: 2 }, join(dir, 'dense.h5'));
    const resumed = await prepareResume(join(dir, 'dense.h5'), cpu, { tEnd: 3, saveEvery: 0.25 });
    await runSimulation({ ...resumed, statsFrom: 0, checkpointEverySeconds: 1e9 });
    const file = await readH5(join(dir, 'dense.h5'));
    assert.deepEqual(Array.from(file.get('/fields/time').data), [0, 1, 2, 2.25, 2.5, 2.75, 3]);
    file.close();
  });

  it('a blow-up stops with the time and field, and the file keeps the last checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftflow-nan-'));
    const out = join(dir, 'bad.h5');
    const unstable: SimulationConfig = { ...config, initAmplitude: 1000, tEnd: 40 };
    await assert.rejects(
      run(unstable, out),
      (error: Error) =>
        error instanceof BlowUpError &&
        /not finite at t = .* keeps the last good checkpoint/.test(error.message),
    );
    const file = await readH5(out);
    const clock = file.get('/checkpoint/clock').data;
    assert.ok(Number.isFinite(file.get('/checkpoint/n').data[2]!));
    assert.equal(clock[0], 0);
    file.close();
  });
});
