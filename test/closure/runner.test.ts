// EHW-C terms inside the HW solver: own-field diffusion closures reproduce the same run made with
// the solver's own dissipation (N = 1, ν = c), the φ term adds exactly c·Ω̂ to the n equation, and
// a closure that grows at the grid scale is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidConfigError,
  type SimulationConfig,
  validateConfig,
} from '../../src/solvers/config.ts';
import { CpuSpectralStepper } from '../../src/solvers/cpuStepper.ts';
import { initialState } from '../../src/solvers/initial.ts';
import type { HwParams } from '../../src/solvers/model.ts';
import { hwBoxGrid } from '../helpers/grids.ts';

const grid = hwBoxGrid(32);
const base: HwParams = { kind: 'hw', c1: 0.5, kappa: 1, nu: 0, hyperOrder: 1, modified: false };
const init = initialState(base, grid, 'noise', 0.5, 2);

function evolve(model: HwParams, steps: number): Float64Array[] {
  const stepper = new CpuSpectralStepper(grid, model, 0.05, 'rk4');
  init.forEach((f, i) => stepper.state[i]!.set(f));
  for (let s = 0; s < steps; s++) stepper.step();
  return stepper.state;
}

describe('EHW-C closure terms in the HW solver', () => {
  it('own-field diffusion closures equal the solver dissipation with N = 1, nu = c', () => {
    const c = 0.02;
    const withNu = evolve({ ...base, nu: c }, 40);
    const withClosure = evolve(
      {
        ...base,
        closure: {
          terms: [
            { equation: 'n', field: 'n', power: 1 },
            { equation: 'omega', field: 'omega', power: 1 },
          ],
          coefficients: [c, c],
        },
      },
      40,
    );
    withNu.forEach((f, i) =>
      f.forEach((v, j) =>
        assert.ok(Math.abs(v - withClosure[i]![j]!) < 1e-12, `field ${i} mode ${j}`),
      ),
    );
  });

  it('the phi term adds exactly c times the vorticity to the n equation', () => {
    const c = 0.3;
    const rhs = (model: HwParams) => {
      const stepper = new CpuSpectralStepper(grid, model, 0.05, 'rk4');
      const out = init.map((f) => new Float64Array(f.length));
      stepper.rhs(init, out);
      return out;
    };
    const plain = rhs(base);
    const closed = rhs({
      ...base,
      closure: { terms: [{ equation: 'n', field: 'phi', power: 1 }], coefficients: [c] },
    });
    closed[0]!.forEach((v, j) => assert.ok(Math.abs(v - plain[0]![j]! - c * init[1]![j]!) < 1e-12));
    closed[1]!.forEach((v, j) => assert.ok(v === plain[1]![j], `omega mode ${j}`));
  });

  it('refuses a closure that grows at the grid scale', () => {
    const config = {
      model: {
        ...base,
        closure: { terms: [{ equation: 'n', field: 'n', power: 2 }], coefficients: [-0.01] },
      },
      nx: 32,
      ny: 32,
      lx: grid.lx,
      ly: grid.ly,
      scheme: 'spectral',
      integrator: 'rk4',
      dt: 0.01,
      tEnd: 1,
      saveEvery: 0,
    } as SimulationConfig;
    assert.throws(() => validateConfig(config), InvalidConfigError);
    assert.throws(() => validateConfig(config), /not damping at the grid scale/);
  });
});
