// The float32 PFFFT CPU path against the float64 reference (same initial state, RK4 steps, HW and
// NS), and its threaded form against its single-threaded form (bit-identical by construction).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SimulationConfig, gridOf } from '../../src/solvers/config.ts';
import { initialState } from '../../src/solvers/initial.ts';
import type { ModelParams } from '../../src/solvers/model.ts';
import { CpuStepper } from '../../src/solvers/stepper.ts';
import { relativeL2 } from '../helpers/allclose.ts';

const HW: ModelParams = { kind: 'hw', c1: 1, kappa: 1, nu: 5e-4, hyperOrder: 3, modified: true };
const NS: ModelParams = {
  kind: 'ns',
  nu: 1e-3,
  drag: 0,
  forcing: 'fno',
  forcingAmplitude: 0.1,
  forcingWavenumber: 4,
};

function setup(model: ModelParams, n: number) {
  const box = model.kind === 'hw' ? (2 * Math.PI) / 0.15 : 1;
  const config = { nx: n, ny: n, lx: box, ly: box, scheme: 'spectral' } as SimulationConfig;
  const grid = gridOf(config);
  return { grid, init: initialState(model, grid, 'noise', model.kind === 'hw' ? 1 : 3, 7) };
}

async function evolve(model: ModelParams, n: number, precision: 'f32' | 'f64', threads: number) {
  const { grid, init } = setup(model, n);
  const stepper = await CpuStepper.create(grid, model, 0.02, 'rk4', precision, threads);
  await stepper.setState(init);
  const diagnostics = await stepper.advance(20, 5);
  const state = await stepper.getState();
  stepper.destroy();
  return { state, diagnostics, label: stepper.deviceLabel };
}

describe('CPU float32 PFFFT path', () => {
  for (const [name, model] of [
    ['modified HW', HW],
    ['FNO Navier-Stokes', NS],
  ] as const) {
    it(`${name}: matches the float64 reference to float32 accuracy`, async () => {
      const fast = await evolve(model, 64, 'f32', 1);
      const reference = await evolve(model, 64, 'f64', 1);
      assert.match(fast.label, /PFFFT/);
      const error = relativeL2(fast.state, reference.state);
      assert.ok(error < 1e-5, `relative L2 difference ${error}`);
      assert.ok(error > 0, 'the f32 path must differ from f64 somewhere (is it running?)');
    });
  }

  it('2 threads give bit-identical results to 1 thread', async () => {
    const one = await evolve(HW, 64, 'f32', 1);
    const two = await evolve(HW, 64, 'f32', 2);
    assert.match(two.label, /2 threads/);
    assert.equal(relativeL2(two.state, one.state), 0);
    assert.deepEqual(two.diagnostics, one.diagnostics);
  });
});
