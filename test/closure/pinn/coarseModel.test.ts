// The differentiable coarse model (real Fourier basis, jax-js, float32) against the spectral
// solver's float64 CPU stepper, which it must reproduce: one RK4 step of plain and modified HW with
// the six EHW-C terms of both signs, from a band-limited broadband state (where the bracket is
// large). Also: the basis is orthonormal and its derivative is exact on a Fourier mode.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as jax from '@jax-js/jax';
import { coarseBases, coarseOps, coarseStep } from '../../../src/closure/pinn/coarseModel.ts';
import { fromModes, matmul, toModes, transpose } from '../../../src/closure/pinn/fourierBasis.ts';
import { EHWC_TERMS } from '../../../src/closure/terms.ts';
import { openDevice } from '../../../src/runtime/device.ts';
import { CpuSpectralStepper } from '../../../src/solvers/cpuStepper.ts';
import type { HwParams } from '../../../src/solvers/model.ts';
import { whiteNoise } from '../../../src/spectral/random.ts';
import { Transforms2d } from '../../../src/spectral/transforms2d.ts';
import { relativeL2 } from '../../helpers/allclose.ts';
import { hwBoxGrid } from '../../helpers/grids.ts';

await openDevice({ prefer: 'wasm' });
const np = jax.numpy;
const grid = hwBoxGrid(32);
const bases = coarseBases(grid);
const coefficients = [0.03, 0.002, -0.06, -0.04, 0.006, -0.08];

function randomModes(seed: number, amplitude: number): Float64Array {
  return whiteNoise(bases.y.modes * bases.x.modes, seed).map((v) => amplitude * v);
}

async function compareStep(modified: boolean) {
  const model: HwParams = {
    kind: 'hw',
    c1: 0.7,
    kappa: 1,
    nu: 1e-4,
    hyperOrder: 3,
    modified,
    closure: { terms: EHWC_TERMS, coefficients },
  };
  const dt = 0.05;
  const modes = [randomModes(1, 2), randomModes(2, 4)];
  const real = modes.map((m) => fromModes(m, bases.y, bases.x));
  const transforms = new Transforms2d(grid);
  const stepper = new CpuSpectralStepper(grid, model, dt, 'rk4');
  real.forEach((f, i) => transforms.forward(f, stepper.state[i]!));
  stepper.step();
  const expected = stepper.state.map((s) => {
    const out = transforms.newReal();
    transforms.inverse(s, out);
    return out;
  });

  const spec = { ...grid, ...model, terms: EHWC_TERMS };
  const ops = coarseOps(spec);
  const [ky, kx] = [bases.y.modes, bases.x.modes];
  const field = (m: Float64Array) => np.array(Float32Array.from(m)).reshape([1, ky, kx]);
  const scalar = (v: number) => np.full([1, 1, 1], v);
  const [n, w] = coarseStep(
    spec,
    ops,
    { c1: scalar(0.7), kappa: scalar(1), coefficients: np.array([coefficients]) },
    field(modes[0]!),
    field(modes[1]!),
    scalar(dt),
  );
  const got = [n, w].map(async (a) =>
    fromModes(Float64Array.from((await a.data()) as Float32Array), bases.y, bases.x),
  );
  for (const [i, value] of (await Promise.all(got)).entries()) {
    const increment = (a: Float64Array) => a.map((v, j) => v - real[i]![j]!);
    const error = relativeL2([increment(value)], [increment(expected[i]!)]);
    assert.ok(error < 1e-5, `field ${i}: relative error of the step's increment ${error}`);
  }
}

describe('differentiable coarse HW model', () => {
  it('the kept-mode real Fourier basis is orthonormal and differentiates a mode exactly', () => {
    const { x } = bases;
    const gram = matmul(
      x.matrix,
      transpose(x.matrix, x.modes, x.points),
      x.modes,
      x.points,
      x.modes,
    );
    gram.forEach((v, i) => assert.ok(Math.abs(v - (i % (x.modes + 1) === 0 ? 1 : 0)) < 1e-12));
    // f = sin(k₃ x) on every row: its x-derivative is k₃ cos(k₃ x).
    const k = x.wavenumber[5]!;
    const f = Float64Array.from({ length: 32 * 32 }, (_, i) =>
      Math.sin((k * (i % 32) * grid.lx) / 32),
    );
    const coeffs = toModes(f, bases.y, bases.x);
    const dx = matmul(
      coeffs,
      transpose(x.derivative, x.modes, x.modes),
      bases.y.modes,
      x.modes,
      x.modes,
    );
    const back = fromModes(dx, bases.y, bases.x);
    back.forEach((v, i) =>
      assert.ok(Math.abs(v - k * Math.cos((k * (i % 32) * grid.lx) / 32)) < 1e-10),
    );
  });

  it('one RK4 step equals the CPU spectral stepper (plain HW, EHW-C six of both signs)', () =>
    compareStep(false));

  it('one RK4 step equals the CPU spectral stepper (modified HW)', () => compareStep(true));
});
