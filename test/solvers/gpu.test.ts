// The WGSL stepper against the float64 CPU stepper (same initial state, 20 RK4 steps, every model
// and integrator), including the device diagnostics. Runs on llvmpipe in CI, on the H100 there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SimulationConfig, gridOf } from '../../src/solvers/config.ts';
import { GpuStepper } from '../../src/solvers/gpuStepper.ts';
import { initialState } from '../../src/solvers/initial.ts';
import type { ModelParams } from '../../src/solvers/model.ts';
import { CpuStepper } from '../../src/solvers/stepper.ts';
import { webGpuOrSkip } from '../helpers/devices.ts';

const { gpu, skip } = await webGpuOrSkip();

const HW: ModelParams = { kind: 'hw', c1: 1, kappa: 1, nu: 5e-4, hyperOrder: 3, modified: false };
const EHWC: ModelParams = {
  ...HW,
  closure: {
    terms: [
      { equation: 'n', field: 'n', power: 1 },
      { equation: 'n', field: 'phi', power: 1 },
      { equation: 'omega', field: 'omega', power: 2 },
      { equation: 'omega', field: 'n', power: 1 },
    ],
    coefficients: [0.05, 0.2, 0.01, -0.1],
  },
};
// The optional last entry caps the workgroup memory (bytes) to run the layout of large grids:
// 1600 bytes give 64² two columns per workgroup (one per field in the coupled update), as 2048²
// has on the H100, instead of eight.
// Grids whose sources fit run the fused update (8 dispatches a step), the large-grid layout the
// separate kernel 1 (12); 'unfused' forces the latter.
const CASES: [string, ModelParams, SimulationConfig['integrator'], number, number?][] = [
  ['HW, rk4', HW, 'rk4', 64],
  ['HW, rk4, unfused', HW, 'rk4', 64],
  ['HW, rk4, the large-grid layout', HW, 'rk4', 64, 1600],
  ['modified HW, ifrk4, the large-grid layout', { ...HW, modified: true }, 'ifrk4', 64, 1600],
  ['modified HW, ifrk4 (2x2 propagator), 128x64', { ...HW, modified: true }, 'ifrk4', 128],
  ['HW with the EHW-C closure terms, rk4', EHWC, 'rk4', 64],
  ['HW with the EHW-C closure terms, ifrk4 (closure in the propagator)', EHWC, 'ifrk4', 64],
  [
    'Kolmogorov NS, rk4',
    {
      kind: 'ns',
      nu: 1e-3,
      drag: 0.1,
      forcing: 'kolmogorov',
      forcingAmplitude: 1,
      forcingWavenumber: 4,
    },
    'rk4',
    64,
  ],
  [
    'FNO NS, ifrk4',
    { kind: 'ns', nu: 1e-3, drag: 0, forcing: 'fno', forcingAmplitude: 0.1, forcingWavenumber: 4 },
    'ifrk4',
    64,
  ],
];

describe('WGSL spectral stepper vs the float64 CPU stepper', { skip }, () => {
  for (const [name, model, integrator, nx, workgroupBytes] of CASES) {
    it(name, async () => {
      const box = model.kind === 'hw' ? (2 * Math.PI) / 0.15 : 2 * Math.PI;
      const config: SimulationConfig = {
        model,
        nx,
        ny: 64,
        lx: box,
        ly: box,
        scheme: 'spectral',
        integrator,
        dt: 0.02,
        tEnd: 1,
        seed: 1,
        init: 'noise',
        initAmplitude: model.kind === 'hw' ? 1 : 3,
        saveEvery: 0,
        diagEvery: 5,
      };
      const grid = gridOf(config);
      const init = initialState(model, grid, config.init, config.initAmplitude, 1);
      const fuse = !name.endsWith('unfused');
      const device = await GpuStepper.create(gpu!, grid, config, { workgroupBytes, fuse });
      assert.equal(device.dispatchesPerStep, fuse && !workgroupBytes ? 8 : 12);
      const reference = new CpuStepper(grid, model, config.dt, integrator);
      await device.setState(init);
      await reference.setState(init);
      const diagGpu = await device.advance(20, 5);
      const diagCpu = await reference.advance(20, 5);
      const [a, b] = [await device.getState(), await reference.getState()];
      let num = 0;
      let den = 0;
      a.forEach((field, f) =>
        field.forEach((v, i) => ((num += (v - b[f]![i]!) ** 2), (den += b[f]![i]! ** 2))),
      );
      assert.ok(Math.sqrt(num / den) < 2e-5, `relative L2 difference ${Math.sqrt(num / den)}`);
      diagCpu.forEach((v, i) =>
        assert.ok(
          Math.abs(diagGpu[i]! - v) <= 1e-4 * Math.abs(v) + 1e-7,
          `diagnostic ${i}: ${diagGpu[i]} vs ${v}`,
        ),
      );
      device.destroy();
    });
  }
});
