// The physics-informed closure fit on data whose answer is known: (1) the residual phase recovers
// each regime's least-squares coefficients from its normal equations; (2) the rollout phase alone
// recovers a regime-dependent closure from trajectories that the coarse model made with it; (3) the
// plain-TS network that `closure run` evaluates equals the jax-js forward that trains.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as jax from '@jax-js/jax';
import {
  networkCoefficients,
  networkForward,
  networkInitialValues,
  networkShapes,
  regimeFeatures,
} from '../../../src/closure/pinn/closureNetwork.ts';
import { coarseBases, coarseOps, coarseStep } from '../../../src/closure/pinn/coarseModel.ts';
import { regimeData } from '../../../src/closure/pinn/pinnData.ts';
import { DEFAULT_PINN, trainClosureNetwork } from '../../../src/closure/pinn/pinnTrainer.ts';
import type { ClosureTerm } from '../../../src/closure/terms.ts';
import { paramsFromValues } from '../../../src/nn/params.ts';
import { openDevice } from '../../../src/runtime/device.ts';
import type { HwParams } from '../../../src/solvers/model.ts';
import { whiteNoise } from '../../../src/spectral/random.ts';

await openDevice({ prefer: 'wasm' });
const np = jax.numpy;
const box = (2 * Math.PI) / 0.15;
const grid = { nx: 16, ny: 16, lx: box, ly: box };
const hw = (c1: number): HwParams => ({
  kind: 'hw',
  c1,
  kappa: 1,
  nu: 0,
  hyperOrder: 3,
  modified: false,
});
const TERMS: ClosureTerm[] = [
  { equation: 'n', field: 'n', power: 1 },
  { equation: 'omega', field: 'omega', power: 1 },
];
/** The closure that made the data: stronger diffusion at larger c1. */
const truth = (c1: number) => [0.3 + 0.1 * Math.log(c1), 0.5 - 0.15 * Math.log(c1)];

async function trajectory(c1: number, snapshots: number, spacing: number, substeps: number) {
  const spec = { ...grid, ...hw(c1), terms: TERMS };
  const bases = coarseBases(grid);
  const size = bases.y.modes * bases.x.modes;
  const ops = coarseOps(spec);
  const params = {
    c1: np.full([1, 1, 1], c1),
    kappa: np.full([1, 1, 1], 1),
    coefficients: np.array([truth(c1)]),
  };
  const start = (seed: number) =>
    np.array(Float32Array.from(whiteNoise(size, seed))).reshape([1, bases.y.modes, bases.x.modes]);
  let [n, w] = [start(1), start(2)];
  const out = { n: new Float32Array(snapshots * size), omega: new Float32Array(snapshots * size) };
  for (let s = 0; s < snapshots; s++) {
    out.n.set((await n.ref.data()) as Float32Array, s * size);
    out.omega.set((await w.ref.data()) as Float32Array, s * size);
    for (let k = 0; k < substeps; k++)
      [n, w] = coarseStep(spec, ops, params, n, w, np.full([1, 1, 1], spacing / substeps));
  }
  jax.tree.dispose([n, w, ops, params]);
  return out;
}

describe('physics-informed closure fit', () => {
  it('the residual phase recovers each regime’s least-squares coefficients', async () => {
    const system = (x: number[], equation: 'n' | 'omega', index: number) => {
      const a = [
        [2 + index, 0.5],
        [0.5, 1],
      ].map((row) => row.map((v) => v * 100));
      return {
        equation,
        indices: [index],
        a: [[a[0]![0]!]],
        b: [a[0]![0]! * x[index]!],
        targetNorm: a[0]![0]! * x[index]! ** 2 * 1.5,
      };
    };
    const data = [0.5, 1].map((c1) => {
      const x = truth(c1);
      const modes = new Float32Array(4 * 11 * 11).fill(0.1);
      return regimeData(`c1=${c1}`, hw(c1), grid, [0, 0.1, 0.2, 0.3], modes, modes, [
        system(x, 'n', 0),
        system(x, 'omega', 1),
      ]);
    });
    const result = await trainClosureNetwork(data, TERMS, {
      ...DEFAULT_PINN,
      pretrainSteps: 800,
      steps: 0,
      lr: 1e-2,
    });
    for (const r of result.regimes)
      r.coefficients.forEach((c, j) =>
        assert.ok(
          Math.abs(c / r.lstsq![j]! - 1) < 0.01,
          `c1=${r.c1} term ${j}: ${c} vs ${r.lstsq![j]}`,
        ),
      );
  });

  it('rollouts alone recover a regime-dependent closure from trajectories it made', async () => {
    const [spacing, substeps] = [0.5, 10];
    const data = [];
    for (const c1 of [0.5, 1]) {
      const t = await trajectory(c1, 10, spacing, substeps);
      data.push(
        regimeData(
          `c1=${c1}`,
          hw(c1),
          grid,
          Array.from({ length: 10 }, (_, i) => i * spacing),
          t.n,
          t.omega,
        ),
      );
    }
    const result = await trainClosureNetwork(data, TERMS, {
      ...DEFAULT_PINN,
      hidden: 8,
      pretrainSteps: 0,
      steps: 120,
      lr: 3e-2,
      residualWeight: 0,
      batchPerRegime: 3,
      substeps,
      scale: [0.4, 0.4],
    });
    assert.equal(result.stopped, undefined, result.stopped);
    for (const r of result.regimes) {
      assert.ok(r.validation.network < 0.02 * r.validation.none, JSON.stringify(r.validation));
      r.coefficients.forEach((c, j) => {
        const expected = truth(r.c1)[j]!;
        assert.ok(
          Math.abs(c - expected) < 0.05 * expected,
          `c1=${r.c1} term ${j}: ${c} vs ${expected}`,
        );
      });
    }
  });

  it('refuses rollout steps past the RK4 limit of the coupling, naming the substeps needed', async () => {
    const modes = new Float32Array(4 * 121).fill(0.1);
    const data = [regimeData('c1=2', hw(2), grid, [0, 0.5, 1, 1.5], modes, modes)];
    await assert.rejects(
      trainClosureNetwork(data, TERMS, { ...DEFAULT_PINN, substeps: 5, scale: [0.1, 0.1] }),
      /exceed the RK4 limit .* of c1 = 2: use --substeps \d+ or more/,
    );
  });

  it('the plain-TS network equals the jax-js forward', async () => {
    const net = {
      hidden: 5,
      outputs: 3,
      featureMean: [0.2, 0] as [number, number],
      featureStd: [1.3, 1] as [number, number],
      scale: [0.1, 0.02, 3],
    };
    const values = networkInitialValues(net, 4);
    values.set(
      'out.w',
      values.get('out.w')!.map((v) => v * 10),
    );
    const params = paramsFromValues(networkShapes(net), values, 'test');
    const features = np.array([regimeFeatures(net, 0.7, 1), regimeFeatures(net, 3, 2)]);
    const got = (await networkForward(
      params,
      features,
      np.array(net.scale),
    ).data()) as Float32Array;
    [
      [0.7, 1],
      [3, 2],
    ].forEach(([c1, kappa], r) =>
      networkCoefficients(net, values, c1!, kappa!).forEach((c, j) =>
        assert.ok(
          Math.abs(c - got[r * 3 + j]!) < 1e-5 * Math.max(1, Math.abs(c)),
          `${c} vs ${got[r * 3 + j]}`,
        ),
      ),
    );
    jax.tree.dispose(params);
  });
});
