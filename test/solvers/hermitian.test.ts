// The kx = 0 column of the state must stay exactly Hermitian (X(−ky) = X(ky)*): its anti-Hermitian
// part has no real-space counterpart, escapes the nonlinear saturation and, seeded by FFT
// rounding, grows at the linear HW rate until the run blows up (seen at t ≈ 250 before the fix).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SimulationConfig, gridOf } from '../../src/solvers/config.ts';
import { GpuStepper } from '../../src/solvers/gpuStepper.ts';
import { initialState } from '../../src/solvers/initial.ts';
import type { ModelParams } from '../../src/solvers/model.ts';
import { CpuStepper, type Stepper } from '../../src/solvers/stepper.ts';
import type { SpectralGrid } from '../../src/spectral/grid.ts';
import { webGpuOrSkip } from '../helpers/devices.ts';

const { gpu, skip } = await webGpuOrSkip();
const HW: ModelParams = { kind: 'hw', c1: 1, kappa: 1, nu: 5e-4, hyperOrder: 3, modified: false };
const config = {
  model: HW,
  nx: 64,
  ny: 64,
  lx: (2 * Math.PI) / 0.15,
  ly: (2 * Math.PI) / 0.15,
  scheme: 'spectral',
  integrator: 'rk4',
  dt: 0.02,
} as SimulationConfig;

function violation(fields: Float64Array[], grid: SpectralGrid): number {
  let worst = 0;
  for (const f of fields)
    for (let row = 0; row < grid.ny; row++) {
      const i = 2 * row * grid.ncols;
      const j = 2 * ((grid.ny - row) % grid.ny) * grid.ncols;
      worst = Math.max(worst, Math.abs(f[i]! - f[j]!), Math.abs(f[i + 1]! + f[j + 1]!));
    }
  return worst;
}

async function check(stepper: Stepper, grid: SpectralGrid) {
  const init = initialState(HW, grid, 'noise', 1, 5);
  assert.equal(violation(init, grid), 0, 'initial state');
  await stepper.setState(init);
  await stepper.advance(60, 20);
  const state = await stepper.getState();
  assert.equal(violation(state, grid), 0, 'after 60 steps');
  assert.ok(state[0]!.some((v, i) => i > 0 && v !== 0));
  stepper.destroy();
}

describe('the kx = 0 column stays exactly Hermitian', () => {
  const grid = gridOf(config);
  for (const precision of ['f64', 'f32'] as const)
    it(`CPU ${precision}`, async () => {
      await check(await CpuStepper.create(grid, HW, config.dt, 'rk4', precision, 1), grid);
    });
  it('WebGPU', { skip }, async () => {
    await check(await GpuStepper.create(gpu!, grid, config), grid);
  });
});
