// Snapshots captured inside a chunk (Stepper.advanceCapturing) are the states a separate
// getState would read at those steps, and the diagnostics are those of a plain advance, on the
// host steppers (segments cut off the sampling grid) and on the WGSL stepper (copies recorded
// between steps); and a state set between advances is the one stepped on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gridOf, type SimulationConfig } from '../../src/solvers/config.ts';
import { GpuStepper } from '../../src/solvers/gpuStepper.ts';
import { initialState } from '../../src/solvers/initial.ts';
import { CpuStepper, type Stepper } from '../../src/solvers/stepper.ts';
import { webGpuOrSkip } from '../helpers/devices.ts';

const { gpu, skip } = await webGpuOrSkip();

const config: SimulationConfig = {
  model: { kind: 'hw', c1: 1, kappa: 1, nu: 5e-4, hyperOrder: 3, modified: false },
  nx: 32,
  ny: 32,
  lx: (2 * Math.PI) / 0.15,
  ly: (2 * Math.PI) / 0.15,
  scheme: 'spectral',
  integrator: 'ifrk4',
  dt: 0.05,
  tEnd: 1,
  seed: 3,
  init: 'noise',
  initAmplitude: 1,
  saveEvery: 0,
  diagEvery: 5,
};
const grid = gridOf(config);
const init = initialState(config.model, grid, config.init, config.initAmplitude, config.seed);
// Captures on and off the sampling grid (every 5 steps), the last at the chunk's end.
const CAPTURES = [3, 10, 12, 23];
const STEPS = 23;

async function compare(make: () => Promise<Stepper>): Promise<void> {
  const capturing = await make();
  await capturing.setState(init);
  const { samples, states } = await capturing.advanceCapturing(STEPS, 5, CAPTURES);
  const plain = await make();
  await plain.setState(init);
  assert.deepEqual([...samples], [...(await plain.advance(STEPS, 5))]);
  const stepwise = await make();
  await stepwise.setState(init);
  let done = 0;
  for (const [i, at] of CAPTURES.entries()) {
    await stepwise.advance(at - done, STEPS + 1);
    done = at;
    const expected = await stepwise.getState();
    expected.forEach((field, f) =>
      assert.deepEqual(states[i]![f], field, `state after step ${at}, field ${f}`),
    );
  }
  assert.equal(states.length, CAPTURES.length);
  for (const stepper of [capturing, plain, stepwise]) stepper.destroy();
}

describe('states captured inside a chunk', () => {
  it('CPU stepper (float64)', () =>
    compare(async () => new CpuStepper(grid, config.model, config.dt, config.integrator)));
  it('WGSL stepper', { skip }, () => compare(() => GpuStepper.create(gpu!, grid, config)));
  it('rejects captures out of order', async () => {
    const stepper = new CpuStepper(grid, config.model, config.dt, config.integrator);
    await assert.rejects(stepper.advanceCapturing(10, 5, [6, 4]), /must ascend/);
    await assert.rejects(stepper.advanceCapturing(10, 5, [11]), /must ascend/);
  });
});

describe('WGSL stepper state changes', { skip }, () => {
  it('setState between advances: the fused update rebuilds the sources from the new state', async () => {
    const second = initialState(config.model, grid, config.init, config.initAmplitude, 7);
    const [switched, fresh] = await Promise.all(
      [0, 1].map(() => GpuStepper.create(gpu!, grid, config)),
    );
    assert.equal(switched!.dispatchesPerStep, 8);
    await switched!.setState(init);
    await switched!.advance(5, 5);
    await switched!.setState(second);
    await fresh!.setState(second);
    assert.deepEqual(await switched!.advance(5, 5), await fresh!.advance(5, 5));
    assert.deepEqual(await switched!.getState(), await fresh!.getState());
    switched!.destroy();
    fresh!.destroy();
  });
});
