// Physics checks of the pseudo-spectral solvers on the float64 CPU path (CI sizes, seeded):
// linear HW theory, conservation by the bracket, the energy budget, Taylor-Green decay, the
// Kolmogorov laminar state, and the dt stability check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpectralGrid } from '../../src/spectral/grid.ts';
import { type SimulationConfig, validateConfig } from '../../src/solvers/config.ts';
import { CpuSpectralStepper } from '../../src/solvers/cpuStepper.ts';
import { diagnose } from '../../src/solvers/diagnostics.ts';
import { initialState } from '../../src/solvers/initial.ts';
import { hwDispersion } from '../../src/solvers/linear.ts';
import { type LinearOptions, measureLinearMode } from '../../src/solvers/linearRun.ts';
import type { HwParams, ModelParams } from '../../src/solvers/model.ts';

const HW_BOX = (2 * Math.PI) / 0.15;

function hwGrid(n: number): SpectralGrid {
  return new SpectralGrid({ nx: n, ny: n, lx: HW_BOX, ly: HW_BOX, dealias: '2/3' });
}

function scalars(s: CpuSpectralStepper) {
  return diagnose(s.params, s.grid, s.state, s.potential(s.state)).scalars;
}

function stepper(params: ModelParams, grid: SpectralGrid, dt: number, init: Float64Array[]) {
  const s = new CpuSpectralStepper(grid, params, dt, 'rk4');
  init.forEach((f, i) => s.state[i]!.set(f));
  return s;
}

/** The (0.3, 1.2) drift-wave mode at c1 = κ = 1 on 32², seeded at tiny amplitude. */
const LINEAR_MODE: LinearOptions = {
  nx: 32,
  c1: 1,
  kappa: 1,
  k0: 0.15,
  kx: 0.3,
  ky: 1.2,
  nu: 1e-3,
  hyperOrder: 2,
  modified: false,
  dt: 0.05,
  tEnd: 10,
  device: 'wasm',
};

describe('HW linear theory', () => {
  it('the dispersion relation gives hw2d-notes values (γ = 0.106 at ky = 1.2, c1 = κ = 1)', () => {
    const mode = hwDispersion(1, 1, 0, 1.2);
    assert.ok(Math.abs(mode.growthRate - 0.106) < 5e-4, String(mode.growthRate));
  });

  for (const modified of [false, true]) {
    it(`the ${modified ? 'modified' : 'ordinary'} solver grows the eigenmode at the analytic rate within 1%`, async () => {
      const result = await measureLinearMode({ ...LINEAR_MODE, modified });
      assert.ok(result.relativeError.growthRate < 0.01, JSON.stringify(result));
      assert.ok(result.relativeError.frequency < 0.01, JSON.stringify(result));
    });
  }

  it('IF-RK4 propagates the eigenmode exactly, at 10x the RK4 stability limit (dt = 0.5)', async () => {
    const result = await measureLinearMode({
      ...LINEAR_MODE,
      dt: 0.5,
      tEnd: 20,
      integrator: 'ifrk4',
    });
    assert.ok(result.relativeError.growthRate < 1e-9, JSON.stringify(result));
    assert.ok(result.relativeError.frequency < 1e-9, JSON.stringify(result));
  });
});

describe('conservation and budgets', () => {
  it('with coupling, drive and dissipation off the bracket conserves E and U (drift < 1e-6)', () => {
    const params: HwParams = { kind: 'hw', c1: 0, kappa: 0, nu: 0, hyperOrder: 3, modified: false };
    const grid = hwGrid(32);
    const s = stepper(params, grid, 0.01, initialState(params, grid, 'noise', 1, 7));
    const before = scalars(s);
    for (let i = 0; i < 200; i++) s.step();
    const after = scalars(s);
    assert.ok(
      Math.abs(after.energy! / before.energy! - 1) < 1e-6,
      `${before.energy} → ${after.energy}`,
    );
    assert.ok(Math.abs(after.enstrophy! / before.enstrophy! - 1) < 1e-6);
    // ...while the state itself did change (the bracket is active).
    assert.ok(Math.abs(after.gamma_n! - before.gamma_n!) > 1e-6);
  });

  it('NS: the bracket conserves energy and enstrophy without viscosity', () => {
    const params: ModelParams = {
      kind: 'ns',
      nu: 0,
      drag: 0,
      forcing: 'none',
      forcingAmplitude: 0,
      forcingWavenumber: 4,
    };
    const grid = new SpectralGrid({
      nx: 32,
      ny: 32,
      lx: 2 * Math.PI,
      ly: 2 * Math.PI,
      dealias: '2/3',
    });
    const s = stepper(params, grid, 0.005, initialState(params, grid, 'decaying', 1, 3));
    const before = scalars(s);
    for (let i = 0; i < 200; i++) s.step();
    const after = scalars(s);
    assert.ok(Math.abs(after.energy! / before.energy! - 1) < 1e-6);
    assert.ok(Math.abs(after.enstrophy! / before.enstrophy! - 1) < 1e-6);
  });

  it('HW energy and enstrophy budgets close: dE/dt = κΓn − Γc − D_E, dU/dt = κΓn − D_U', () => {
    const params: HwParams = {
      kind: 'hw',
      c1: 1,
      kappa: 1,
      nu: 1e-3,
      hyperOrder: 2,
      modified: true,
    };
    const grid = hwGrid(32);
    const dt = 2e-4;
    const s = stepper(params, grid, dt, initialState(params, grid, 'noise', 1, 11));
    const a = scalars(s);
    s.step();
    const b = scalars(s);
    s.step();
    const c = scalars(s);
    const dE = (c.energy! - a.energy!) / (2 * dt);
    const dU = (c.enstrophy! - a.enstrophy!) / (2 * dt);
    const budgetE = b.gamma_n! - b.gamma_c! - b.dissipation_e!;
    const budgetU = b.gamma_n! - b.dissipation_u!;
    assert.ok(Math.abs(dE - budgetE) < 1e-4 * Math.abs(budgetE), `${dE} vs ${budgetE}`);
    assert.ok(Math.abs(dU - budgetU) < 1e-4 * Math.abs(budgetU), `${dU} vs ${budgetU}`);
  });
});

describe('Navier-Stokes', () => {
  it('the Taylor-Green vortex decays as exp(−2νt) with the nonlinear term on', () => {
    const nu = 0.05;
    const params: ModelParams = {
      kind: 'ns',
      nu,
      drag: 0,
      forcing: 'none',
      forcingAmplitude: 0,
      forcingWavenumber: 4,
    };
    const grid = new SpectralGrid({
      nx: 16,
      ny: 16,
      lx: 2 * Math.PI,
      ly: 2 * Math.PI,
      dealias: '2/3',
    });
    const s = stepper(params, grid, 0.01, initialState(params, grid, 'taylor-green', 1, 0));
    const z0 = scalars(s).enstrophy!;
    for (let i = 0; i < 100; i++) s.step();
    const ratio = Math.sqrt(scalars(s).enstrophy! / z0);
    assert.ok(Math.abs(ratio / Math.exp(-2 * nu * 1) - 1) < 1e-8, String(ratio));
  });

  it('Kolmogorov flow below the critical Re returns to the laminar profile', () => {
    const params: ModelParams = {
      kind: 'ns',
      nu: 1,
      drag: 0,
      forcing: 'kolmogorov',
      forcingAmplitude: 1,
      forcingWavenumber: 4,
    };
    const grid = new SpectralGrid({
      nx: 32,
      ny: 32,
      lx: 2 * Math.PI,
      ly: 2 * Math.PI,
      dealias: '2/3',
    });
    const laminar = initialState(params, grid, 'laminar', 0, 0)[0]!;
    const s = stepper(params, grid, 0.01, initialState(params, grid, 'laminar', 0.5, 5));
    const distance = () =>
      Math.sqrt(s.state[0]!.reduce((sum, v, i) => sum + (v - laminar[i]!) ** 2, 0));
    const d0 = distance();
    for (let i = 0; i < 1000; i++) s.step();
    // The slowest perturbation (|k| = 1) decays as e^{−νt}: e^{−10} after t = 10.
    assert.ok(distance() < 1e-3 * d0, `${distance()} vs ${d0}`);
    // The laminar amplitude is A n / (ν n²) at k = (0, ±n).
    const row = 4;
    assert.ok(Math.abs(s.state[0]![2 * row * grid.ncols]! - (0.5 * 4) / 16) < 1e-6);
  });
});

describe('configuration checks', () => {
  const base: SimulationConfig = {
    model: { kind: 'hw', c1: 1, kappa: 1, nu: 5e-8, hyperOrder: 3, modified: false },
    nx: 512,
    ny: 512,
    lx: HW_BOX,
    ly: HW_BOX,
    scheme: 'spectral',
    integrator: 'rk4',
    dt: 0.025,
    tEnd: 1,
    seed: 0,
    init: 'noise',
    initAmplitude: 0.01,
    saveEvery: 0,
    diagEvery: 10,
  };
  it('accepts the hw2d reference case (512², ν = 5e-8, dt = 0.025)', () => {
    validateConfig(base);
  });
  it('rejects dt past the RK4 limit of the hyper-diffusion (1024²) and suggests ifrk4', () => {
    assert.throws(
      () => validateConfig({ ...base, nx: 1024, ny: 1024 }),
      /stability limit .*ifrk4/s,
    );
    validateConfig({ ...base, nx: 1024, ny: 1024, integrator: 'ifrk4' });
  });
  it('rejects the stiff coupling at c1 = 5 with dt = 0.025 under RK4, accepts it under IF-RK4', () => {
    const stiff = { ...base, model: { ...base.model, c1: 5 } as HwParams };
    assert.throws(() => validateConfig(stiff), /stability limit 0\.01\d+ .*ifrk4/s);
    validateConfig({ ...stiff, integrator: 'ifrk4' });
  });
  it('rejects unsupported grids and negative viscosity, naming each problem', () => {
    assert.throws(
      () => validateConfig({ ...base, nx: 100, model: { ...base.model, nu: -1 } as HwParams }),
      (error: Error) =>
        error.name === 'InvalidConfigError' &&
        /nx = 100/.test(error.message) &&
        /nu must be >= 0/.test(error.message),
    );
  });
});
