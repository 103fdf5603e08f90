/**
 * The coarse HW model with closure terms, written in jax-js so `grad` can run through rollouts of
 * it (the a-posteriori loss of the physics-informed closure fit). It is the spectral solver's
 * equations and classical RK4 (src/solvers/model.ts, cpuStepper.ts), but in the real Fourier
 * basis of fourierBasis.ts: fields are mode coefficients [B, Ky, Kx], every transform is a matrix
 * product, and each trajectory b of a batch has its own c1, κ, dt and closure coefficients (so
 * several regimes train together). Physical fields are kept transposed, [B, Nx, Ny], which saves
 * one transpose per transform (products are pointwise, so the layout does not matter).
 */
import * as jax from '@jax-js/jax';
import type { Params } from '../../nn/adam.ts';
import type { ClosureTerm } from '../../solvers/model.ts';
import { type AxisBasis, axisBasis, matmul, transpose } from './fourierBasis.ts';

const np = jax.numpy;

export interface CoarseModelSpec {
  nx: number;
  ny: number;
  lx: number;
  ly: number;
  nu: number;
  hyperOrder: number;
  modified: boolean;
  terms: ClosureTerm[];
}

export interface CoarseBases {
  x: AxisBasis;
  y: AxisBasis;
}

/** The bases of a 2/3-de-aliased grid (the kept |index| < n/3, as SpectralGrid keeps). */
export function coarseBases(spec: Pick<CoarseModelSpec, 'nx' | 'ny' | 'lx' | 'ly'>): CoarseBases {
  return {
    x: axisBasis(spec.nx, spec.lx, Math.ceil(spec.nx / 3) - 1),
    y: axisBasis(spec.ny, spec.ly, Math.ceil(spec.ny / 3) - 1),
  };
}

/** Host values of the model's constant matrices and per-mode symbols (float32, by name). */
export function coarseConstants(
  spec: CoarseModelSpec,
): Map<string, [number[], Float32Array<ArrayBuffer>]> {
  const { x, y } = coarseBases(spec);
  const [kx, ky] = [x.modes, y.modes];
  const out = new Map<string, [number[], Float32Array<ArrayBuffer>]>();
  const put = (name: string, shape: number[], values: Float64Array) =>
    out.set(name, [shape, Float32Array.from(values)]);
  put('toX', [x.points, kx], transpose(x.matrix, kx, x.points));
  put('toY', [y.points, ky], transpose(y.matrix, ky, y.points));
  put('fromX', [kx, x.points], x.matrix);
  put('fromY', [ky, y.points], y.matrix);
  put(
    'fromXdx',
    [kx, x.points],
    matmul(transpose(x.derivative, kx, kx), x.matrix, kx, kx, x.points),
  );
  put(
    'fromYdy',
    [ky, y.points],
    matmul(transpose(y.derivative, ky, ky), y.matrix, ky, ky, y.points),
  );
  put('dyT', [ky, ky], transpose(y.derivative, ky, ky));
  const perMode = (f: (k2: number, row: number, col: number) => number) =>
    Float64Array.from({ length: ky * kx }, (_, i) => {
      const [row, col] = [Math.floor(i / kx), i % kx];
      return f(y.wavenumber[row]! ** 2 + x.wavenumber[col]! ** 2, row, col);
    });
  put(
    'invLap',
    [ky, kx],
    perMode((k2) => (k2 > 0 ? -1 / k2 : 0)),
  );
  put(
    'dissipation',
    [ky, kx],
    perMode((k2) => -spec.nu * k2 ** spec.hyperOrder),
  );
  put(
    'notMean',
    [ky, kx],
    perMode((k2) => (k2 > 0 ? 1 : 0)),
  );
  // Row 0 of the y basis is the constant: the zonal (ky = 0) modes the modified model decouples.
  put(
    'coupled',
    [ky, 1],
    Float64Array.from({ length: ky }, (_, r) => (spec.modified && r === 0 ? 0 : 1)),
  );
  spec.terms.forEach((term, j) =>
    put(
      `symbol${j}`,
      [ky, kx],
      perMode((k2) => -(k2 ** term.power)),
    ),
  );
  return out;
}

export function coarseOps(spec: CoarseModelSpec): Params {
  const ops: Params = {};
  for (const [name, [shape, values]] of coarseConstants(spec))
    ops[name] = np.array(values).reshape(shape);
  return ops;
}

/** Per-trajectory parameters, each [B, 1, 1]; coefficients [B, J] in the order of spec.terms. */
export interface TrajectoryParams {
  c1: jax.Array;
  kappa: jax.Array;
  coefficients: jax.Array;
}

const swapLast = (a: jax.Array) =>
  a.transpose([...Array.from({ length: a.ndim - 2 }, (_, i) => i), a.ndim - 1, a.ndim - 2]);

/** Physical (transposed, [..., Nx, Ny]) fields of mode arrays [..., Ky, Kx]. */
function toPhysical(modes: jax.Array, alongX: jax.Array, alongY: jax.Array): jax.Array {
  return np.matmul(swapLast(np.matmul(modes, alongX)), alongY);
}

/** Mode coefficients [..., Ky, Kx] of transposed physical fields [..., Nx, Ny]. */
function toModes(physical: jax.Array, ops: Params): jax.Array {
  return np.matmul(swapLast(np.matmul(physical, ops.toY!.ref)), ops.toX!.ref);
}

/**
 * d/dt of (n, Ω) for mode arrays [B, Ky, Kx]: −[φ, f] (de-aliased), the coupling c1 (φ − n)
 * (without its zonal part in the modified model), −κ ∂y φ, the hyper-dissipation and the closure
 * terms −c_j (k²)^p f. Consumes n and Ω, not the ops or params.
 */
export function coarseRhs(
  spec: CoarseModelSpec,
  ops: Params,
  params: TrajectoryParams,
  n: jax.Array,
  w: jax.Array,
): [jax.Array, jax.Array] {
  const b = n.shape[0]!;
  const phi = w.ref.mul(ops.invLap!.ref);
  const sources = np.stack([phi.ref, n.ref, w.ref], 1);
  const dx = toPhysical(sources.ref, ops.fromXdx!.ref, ops.fromY!.ref);
  const dy = toPhysical(sources, ops.fromX!.ref, ops.fromYdy!.ref);
  const [dxPhi, dyPhi] = [dx.ref.slice([], 0), dy.ref.slice([], 0)];
  const bracket = (i: number) =>
    dxPhi.ref.mul(dy.ref.slice([], i)).sub(dyPhi.ref.mul(dx.ref.slice([], i)));
  const products = toModes(np.stack([bracket(1), bracket(2)], 1), ops);
  dx.dispose();
  dy.dispose();
  dxPhi.dispose();
  dyPhi.dispose();
  const coupling = params.c1.ref.mul(ops.coupled!.ref).mul(phi.ref.sub(n.ref));
  const dyPhiModes = swapLast(np.matmul(swapLast(phi.ref), ops.dyT!.ref));
  const fields = { n, omega: w, phi };
  let rn = products.ref
    .slice([], 0)
    .neg()
    .add(coupling.ref)
    .sub(params.kappa.ref.mul(dyPhiModes))
    .add(fields.n.ref.mul(ops.dissipation!.ref));
  let rw = products
    .slice([], 1)
    .neg()
    .add(coupling)
    .add(fields.omega.ref.mul(ops.dissipation!.ref));
  spec.terms.forEach((term, j) => {
    const c = params.coefficients.ref.slice([], [j, j + 1]).reshape([b, 1, 1]);
    const value = c.mul(ops[`symbol${j}`]!.ref).mul(fields[term.field].ref);
    if (term.equation === 'n') rn = rn.add(value);
    else rw = rw.add(value);
  });
  jax.tree.dispose(fields);
  return [rn, rw.mul(ops.notMean!.ref)];
}

/** One classical RK4 step of size dt ([B, 1, 1]) of (n, Ω); consumes n, Ω and dt. */
export function coarseStep(
  spec: CoarseModelSpec,
  ops: Params,
  params: TrajectoryParams,
  n: jax.Array,
  w: jax.Array,
  dt: jax.Array,
): [jax.Array, jax.Array] {
  const rhs = (a: jax.Array, c: jax.Array) => coarseRhs(spec, ops, params, a, c);
  const half = dt.ref.mul(0.5);
  const [n1, w1] = rhs(n.ref, w.ref);
  const [n2, w2] = rhs(n.ref.add(n1.ref.mul(half.ref)), w.ref.add(w1.ref.mul(half.ref)));
  const [n3, w3] = rhs(n.ref.add(n2.ref.mul(half.ref)), w.ref.add(w2.ref.mul(half)));
  const [n4, w4] = rhs(n.ref.add(n3.ref.mul(dt.ref)), w.ref.add(w3.ref.mul(dt.ref)));
  const sixth = dt.mul(1 / 6);
  const combine = (u: jax.Array, k1: jax.Array, k2: jax.Array, k3: jax.Array, k4: jax.Array) =>
    u.add(k1.add(k2.add(k3).mul(2)).add(k4).mul(sixth.ref));
  const out: [jax.Array, jax.Array] = [combine(n, n1, n2, n3, n4), combine(w, w1, w2, w3, w4)];
  sixth.dispose();
  return out;
}
