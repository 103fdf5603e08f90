/**
 * Training of the closure network (closureNetwork.ts) on several regimes at once, with jax-js
 * `grad` and Adam, in two phases:
 *  1. the a-priori residual of the coarse equations against the coarse-grained DNS (∂t f̄ from the
 *     DNS minus the coarse right-hand side minus the closure, i.e. −τ − closure), relative to ‖τ‖²
 *     per equation, evaluated exactly from each regime's normal equations;
 *  2. that residual (weight `residualWeight`) plus the a-posteriori loss: rollouts of the
 *     differentiable coarse model (coarseModel.ts) from coarse DNS states over `horizon` snapshot
 *     intervals of `substeps` RK4 steps each, compared with the coarse DNS at every interval by the
 *     band-normalised error of pinnData.ts (weight `rolloutWeight`).
 * The last `validation` fraction of each regime's rollout starts is held out; the validation loss
 * is reported for the network, the per-regime least-squares closure and no closure.
 */
import * as jax from '@jax-js/jax';
import {
  adamInit,
  adamScalars,
  type AdamState,
  adamUpdate,
  cosineSchedule,
  DEFAULT_ADAM,
  type Params,
} from '../../nn/adam.ts';
import { paramsFromValues, readValues } from '../../nn/params.ts';
import {
  InvalidConfigError,
  linearStabilityLimit,
  type SimulationConfig,
} from '../../solvers/config.ts';
import { uniformGenerator } from '../../spectral/random.ts';
import { relativeResiduals, solveNormalEquations } from '../fit.ts';
import type { ClosureTerm } from '../terms.ts';
import {
  type ClosureNetwork,
  featureNormalisation,
  networkForward,
  networkCoefficients,
  networkInitialValues,
  networkShapes,
  regimeFeatures,
} from './closureNetwork.ts';
import { coarseBases, type CoarseModelSpec, coarseOps, coarseStep } from './coarseModel.ts';
import type { RegimeData } from './pinnData.ts';

const np = jax.numpy;

export interface PinnConfig {
  hidden: number;
  seed: number;
  /** Phase 1 (residual only) and phase 2 (residual + rollouts) steps. */
  pretrainSteps: number;
  steps: number;
  lr: number;
  residualWeight: number;
  rolloutWeight: number;
  /** Rollout starts per regime in each step. */
  batchPerRegime: number;
  /** Snapshot intervals per rollout and RK4 steps per interval. */
  horizon: number;
  substeps: number;
  validation: number;
  /** Coefficient scale per term when no regime has sub-grid data (otherwise from least squares). */
  scale?: number[];
}

export const DEFAULT_PINN: PinnConfig = {
  hidden: 32,
  seed: 0,
  pretrainSteps: 1500,
  steps: 300,
  lr: 3e-3,
  residualWeight: 1,
  rolloutWeight: 1,
  batchPerRegime: 4,
  horizon: 1,
  substeps: 10,
  validation: 0.2,
};

export interface RegimeReport {
  source: string;
  c1: number;
  kappa: number;
  coefficients: number[];
  lstsq: number[] | null;
  /** ‖−τ − closure‖/‖τ‖ per equation of the network's and the least-squares coefficients. */
  residual: { network: Record<string, number>; lstsq: Record<string, number> } | null;
  /** Held-out rollout loss of the network, least squares and no closure. */
  validation: { network: number; lstsq: number | null; none: number };
}

export interface PinnResult {
  net: ClosureNetwork;
  values: Map<string, Float32Array>;
  spec: CoarseModelSpec;
  history: { step: number; phase: 1 | 2; loss: number; seconds: number }[];
  regimes: RegimeReport[];
  /** Set when training stopped early on a non-finite loss (the last good weights are kept). */
  stopped?: string;
}

/** The shared model of all regimes (grid, dissipation, modified), with a clear error if they differ. */
function sharedSpec(data: RegimeData[], terms: ClosureTerm[]): CoarseModelSpec {
  const first = data[0]!;
  const key = (d: RegimeData) =>
    JSON.stringify([d.grid, d.model.nu, d.model.hyperOrder, d.model.modified]);
  for (const d of data)
    if (key(d) !== key(first))
      throw new InvalidConfigError(
        `${d.source} differs from ${first.source} in grid, nu, N or --modified: the network is fitted across c1 and kappa only`,
      );
  const { nu, hyperOrder, modified } = first.model;
  return { ...first.grid, nu, hyperOrder, modified, terms };
}

/** Per-regime residual tensors: Â = A/‖τ_e‖², b̂ = b/‖τ_e‖², constant = number of equations. */
function residualTensors(data: RegimeData[], terms: ClosureTerm[]) {
  const [r, j] = [data.length, terms.length];
  const a = new Float32Array(r * j * j);
  const b = new Float32Array(r * j);
  const constant = new Float32Array(r);
  const mask = new Float32Array(r);
  data.forEach((d, ri) => {
    for (const s of d.residual ?? []) {
      s.indices.forEach((jp, p) => {
        b[ri * j + jp] = s.b[p]! / s.targetNorm;
        s.indices.forEach((jq, q) => (a[(ri * j + jp) * j + jq] = s.a[p]![q]! / s.targetNorm));
      });
      constant[ri] = constant[ri]! + 1;
      mask[ri] = 1;
    }
  });
  return { a, b, constant, mask, count: mask.reduce((x, y) => x + y, 0) };
}

export async function trainClosureNetwork(
  data: RegimeData[],
  terms: ClosureTerm[],
  config: PinnConfig,
  onProgress?: (step: number, total: number, info: string) => void,
): Promise<PinnResult> {
  if (data.length === 0) throw new InvalidConfigError('no training data');
  const spec = sharedSpec(data, terms);
  const bases = coarseBases(spec);
  const [ky, kx, J, R] = [bases.y.modes, bases.x.modes, terms.length, data.length];
  const modeSize = ky * kx;
  const lstsq = data.map((d) =>
    d.residual ? solveNormalEquations(d.residual, terms.length) : null,
  );
  const fitted = lstsq.filter((c): c is number[] => c !== null);
  const scale =
    fitted.length > 0
      ? terms.map(
          (_, j) => Math.sqrt(fitted.reduce((s, c) => s + c[j]! ** 2, 0) / fitted.length) || 1e-3,
        )
      : (config.scale ?? terms.map(() => 0.01));
  const net: ClosureNetwork = {
    hidden: config.hidden,
    outputs: J,
    ...featureNormalisation(data.map((d) => d.model)),
    scale,
  };
  for (const d of data) {
    // The linear terms (coupling c1/k² at the box scale above all) bound the rollouts' RK4 step.
    const dt = d.spacing / config.substeps;
    const run: SimulationConfig = {
      ...d.grid,
      model: d.model,
      scheme: 'spectral',
      integrator: 'rk4',
      dt,
      tEnd: d.spacing,
      seed: 0,
      init: 'noise',
      initAmplitude: 0,
      saveEvery: 0,
      diagEvery: 1,
    };
    const limit = linearStabilityLimit(run);
    if (dt > limit)
      throw new InvalidConfigError(
        `${d.source}: rollout steps of ${dt.toPrecision(3)} exceed the RK4 limit ${limit.toPrecision(3)} of c1 = ${d.model.c1}: use --substeps ${Math.ceil(d.spacing / (0.9 * limit))} or more`,
      );
  }
  const starts = data.map((d) => {
    const all = Array.from({ length: d.times.length - config.horizon }, (_, s) => s);
    if (all.length < 2)
      throw new InvalidConfigError(
        `${d.source} has ${d.times.length} snapshots: a rollout of --horizon ${config.horizon} needs at least ${config.horizon + 2}`,
      );
    const held = Math.max(1, Math.round(config.validation * all.length));
    return { train: all.slice(0, all.length - held), validation: all.slice(all.length - held) };
  });

  const ops = coarseOps(spec);
  const res = residualTensors(data, terms);
  const residual: Params = {
    a: np.array(res.a).reshape([R, J, J]),
    b: np.array(res.b).reshape([R, J]),
    constant: np.array(res.constant),
    mask: np.array(res.mask),
    features: np
      .array(Float32Array.from(data.flatMap((d) => regimeFeatures(net, d.model.c1, d.model.kappa))))
      .reshape([R, 2]),
    scale: np.array(Float32Array.from(scale)),
  };

  const residualLoss = (coefficients: jax.Array, r: Params) => {
    const ca = np.sum(coefficients.ref.reshape([R, 1, J]).mul(r.a!.ref), 2);
    const quad = np.sum(ca.mul(coefficients.ref), 1);
    const linear = np.sum(r.b!.ref.mul(coefficients), 1);
    const perRegime = quad.sub(linear.mul(2)).add(r.constant!.ref).mul(r.mask!.ref);
    return np.sum(perRegime).mul(1 / Math.max(1, res.count));
  };
  /** Mean over trajectories and intervals of the band-normalised error; consumes the batch. */
  const rolloutLoss = (coefficients: jax.Array, batch: Params) => {
    const b = batch.n0!.shape[0]!;
    const traj = { c1: batch.c1!, kappa: batch.kappa!, coefficients };
    let [n, w] = [batch.n0!, batch.w0!];
    let total: jax.Array = np.zeros([]);
    for (let i = 0; i < config.horizon; i++) {
      for (let s = 0; s < config.substeps; s++)
        [n, w] = coarseStep(spec, ops, traj, n, w, batch.dt!.ref);
      const err = (f: jax.Array, target: string, weight: jax.Array) =>
        np.sum(np.square(f.ref.sub(batch[target]!.ref.slice([], i))).mul(weight.ref));
      total = total.add(err(n, 'nT', batch.wn!)).add(err(w, 'wT', batch.ww!));
    }
    jax.tree.dispose([n, w, traj, batch.dt!, batch.nT!, batch.wT!, batch.wn!, batch.ww!]);
    return total.mul(1 / (b * config.horizon));
  };
  const networkLoss = (p: Params, r: Params, batch: Params | null) => {
    const coefficients = networkForward(p, r.features!.ref, r.scale!);
    if (!batch) return residualLoss(coefficients, r);
    const perTrajectory = np.matmul(batch.onehot!, coefficients.ref);
    const roll = rolloutLoss(perTrajectory, batch).mul(config.rolloutWeight);
    return config.residualWeight > 0
      ? roll.add(residualLoss(coefficients, r).mul(config.residualWeight))
      : (coefficients.dispose(), roll);
  };
  const adam = { ...DEFAULT_ADAM, beta2: 0.999 };
  const update = (p: Params, st: AdamState, r: Params, batch: Params | null, sc: jax.Array) => {
    const [loss, grads] = jax.valueAndGrad((q: Params) => networkLoss(q, r, batch))(
      jax.tree.ref(p),
    );
    jax.tree.dispose(r);
    const up = adamUpdate(p, grads, st, sc, adam, () => false);
    up.gradNorm.dispose();
    return [up.params, up.state.m, up.state.v, loss];
  };
  const pretrainStep = jax.jit((p: Params, st: AdamState, r: Params, sc: jax.Array) =>
    update(p, st, r, null, sc),
  );
  const trainStep = jax.jit((p: Params, st: AdamState, r: Params, batch: Params, sc: jax.Array) =>
    update(p, st, r, batch, sc),
  );
  const evalRollout = jax.jit((coefficients: jax.Array, batch: Params) =>
    rolloutLoss(coefficients, batch),
  );

  const field = (d: RegimeData, which: 'n' | 'omega', index: number) =>
    d[which].subarray(index * modeSize, (index + 1) * modeSize);
  const makeBatch = (picks: [number, number][]): Params => {
    const b = picks.length;
    const gather = (f: (ri: number, s: number) => ArrayLike<number>, size: number) => {
      const out = new Float32Array(b * size);
      picks.forEach(([ri, s], i) => out.set(f(ri, s), i * size));
      return out;
    };
    const targets = (which: 'n' | 'omega') =>
      gather(
        (ri, s) =>
          Float32Array.from(
            { length: config.horizon * modeSize },
            (_, q) => field(data[ri]!, which, s + 1 + Math.floor(q / modeSize))[q % modeSize]!,
          ),
        config.horizon * modeSize,
      );
    const perTrajectory = (f: (d: RegimeData) => number) =>
      np.array(Float32Array.from(picks, ([ri]) => f(data[ri]!))).reshape([b, 1, 1]);
    return {
      n0: np.array(gather((ri, s) => field(data[ri]!, 'n', s), modeSize)).reshape([b, ky, kx]),
      w0: np.array(gather((ri, s) => field(data[ri]!, 'omega', s), modeSize)).reshape([b, ky, kx]),
      nT: np.array(targets('n')).reshape([b, config.horizon, ky, kx]),
      wT: np.array(targets('omega')).reshape([b, config.horizon, ky, kx]),
      wn: np.array(gather((ri) => data[ri]!.weights.n, modeSize)).reshape([b, ky, kx]),
      ww: np.array(gather((ri) => data[ri]!.weights.omega, modeSize)).reshape([b, ky, kx]),
      dt: perTrajectory((d) => d.spacing / config.substeps),
      c1: perTrajectory((d) => d.model.c1),
      kappa: perTrajectory((d) => d.model.kappa),
      onehot: np
        .array(gather((ri) => Float32Array.from({ length: R }, (_, q) => (q === ri ? 1 : 0)), R))
        .reshape([b, R]),
    };
  };

  const shapes = networkShapes(net);
  let params = paramsFromValues(shapes, networkInitialValues(net, config.seed), 'closure network');
  let state = adamInit(params);
  let good = await readValues(shapes, params);
  const history: PinnResult['history'] = [];
  const random = uniformGenerator(config.seed + 1);
  const total = config.pretrainSteps + config.steps;
  let stopped: string | undefined;
  const started = performance.now();
  for (let step = 0; step < total; step++) {
    const phase = step < config.pretrainSteps ? 1 : 2;
    const local = phase === 1 ? step : step - config.pretrainSteps;
    const length = phase === 1 ? config.pretrainSteps : config.steps;
    const sc = adamScalars(
      adam,
      local,
      cosineSchedule(local, length, config.lr, Math.min(50, length / 10)),
    );
    let out;
    if (phase === 1) out = pretrainStep(params, state, jax.tree.ref(residual), sc);
    else {
      const picks = data.flatMap((_, ri) =>
        Array.from({ length: config.batchPerRegime }, () => {
          const train = starts[ri]!.train;
          return [ri, train[Math.floor(random() * train.length)]!] as [number, number];
        }),
      );
      out = trainStep(params, state, jax.tree.ref(residual), makeBatch(picks), sc);
    }
    const [p, m, v, lossArray] = out as unknown as [Params, Params, Params, jax.Array];
    params = p;
    state = { m, v };
    const last = step === total - 1 || step === config.pretrainSteps - 1;
    if (phase === 2 || last || step % 50 === 0) {
      const loss = ((await lossArray.data()) as Float32Array)[0]!;
      if (!Number.isFinite(loss)) {
        stopped = `the loss was not finite at step ${step} (phase ${phase}); kept the weights of step ${history.at(-1)?.step ?? 0}`;
        break;
      }
      history.push({ step, phase, loss, seconds: (performance.now() - started) / 1000 });
      good = await readValues(shapes, params);
      onProgress?.(step + 1, total, `phase ${phase} loss ${loss.toPrecision(4)}`);
    } else lossArray.dispose();
  }
  jax.tree.dispose([params, state]);
  pretrainStep.dispose();
  trainStep.dispose();

  const regimes: RegimeReport[] = [];
  for (const [ri, d] of data.entries()) {
    const coefficients = networkCoefficients(net, good, d.model.c1, d.model.kappa);
    const held = starts[ri]!.validation.map((s) => [ri, s] as [number, number]);
    const validationOf = async (c: number[]) => {
      const coef = np.array(Float32Array.from(held.flatMap(() => c))).reshape([held.length, J]);
      const batch = makeBatch(held);
      batch.onehot!.dispose();
      delete batch.onehot;
      return ((await evalRollout(coef, batch).data()) as Float32Array)[0]!;
    };
    const ls = lstsq[ri] ?? null;
    regimes.push({
      source: d.source,
      c1: d.model.c1,
      kappa: d.model.kappa,
      coefficients,
      lstsq: ls,
      residual: ls
        ? {
            network: relativeResiduals(d.residual ?? [], coefficients),
            lstsq: relativeResiduals(d.residual ?? [], ls),
          }
        : null,
      validation: {
        network: await validationOf(coefficients),
        lstsq: ls ? await validationOf(ls) : null,
        none: await validationOf(terms.map(() => 0)),
      },
    });
  }
  evalRollout.dispose();
  jax.tree.dispose([ops, residual]);
  return { net, values: good, spec, history, regimes, stopped };
}
