/**
 * The exact propagator of HW's linear terms for IF-RK4. Every mode's coupling, drive, dissipation
 * and closure form a 2x2 complex operator L(k) on (n̂, Ω̂) (model.ts hwLinearOperator); its
 * adiabatic eigenvalue −c1(1 + k²)/k² is what limits classical RK4 at small k (dt < 0.061 at
 * c1 = 1, k0 = 0.15). Integrating it exactly leaves only the advective CFL limit. The closed form
 * below is exp(A) = e^s (cosh q · I + sinh q / q · (A − s I)), s = tr A / 2, q² = ((a − d)/2)² + bc.
 */
import type { SpectralGrid } from '../spectral/grid.ts';
import { hwLinearOperator, type HwParams, type Matrix2 } from './model.ts';

type C = [number, number];

const add = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];
const sub = (a: C, b: C): C => [a[0] - b[0], a[1] - b[1]];
const mul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const scale = (a: C, s: number): C => [a[0] * s, a[1] * s];
const exp = (a: C): C => scale([Math.cos(a[1]), Math.sin(a[1])], Math.exp(a[0]));

function div(a: C, b: C): C {
  const d = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
}

/** Principal square root of a complex number. */
function sqrt(a: C): C {
  const r = Math.hypot(a[0], a[1]);
  const re = Math.sqrt((r + a[0]) / 2);
  const im = Math.sqrt(Math.max(0, (r - a[0]) / 2));
  return [re, a[1] < 0 ? -im : im];
}

/**
 * A complex 2x2 matrix [[a, b], [c, d]] as s I + N: s = (a + d) / 2, N = [[α, b], [c, −α]] with
 * α = (a − d) / 2, and q = √(α² + bc), so that N² = q² I and the eigenvalues are s ± q.
 */
function centred(m: Matrix2): { s: C; alpha: C; q2: C; q: C } {
  const [a, b, c, d] = m;
  const alpha = scale(sub(a, d), 0.5);
  const q2 = add(mul(alpha, alpha), mul(b, c));
  return { s: scale(add(a, d), 0.5), alpha, q2, q: sqrt(q2) };
}

/** The two eigenvalues s ± q of a complex 2x2 matrix (see `centred`), as (re, im). */
export function eigenvalues2(m: Matrix2): [C, C] {
  const { s, q } = centred(m);
  return [add(s, q), sub(s, q)];
}

/**
 * exp(A) of a complex 2x2 matrix [[a, b], [c, d]], row-major. e^s cosh q and e^s sinh q / q are
 * formed from e^{s±q} so a large negative s and a large q do not overflow separately; near q = 0
 * the series of sinh q / q is used.
 */
export function expm2(m: Matrix2): Matrix2 {
  const [, b, c] = m;
  const { s, alpha, q2, q } = centred(m);
  let cosh: C;
  let sinhOverQ: C;
  if (Math.hypot(q[0], q[1]) < 1e-4) {
    const es = exp(s);
    cosh = mul(es, add([1, 0], scale(q2, 0.5)));
    sinhOverQ = mul(es, add([1, 0], scale(q2, 1 / 6)));
  } else {
    const plus = exp(add(s, q));
    const minus = exp(sub(s, q));
    cosh = scale(add(plus, minus), 0.5);
    sinhOverQ = div(scale(sub(plus, minus), 0.5), q);
  }
  return [
    add(cosh, mul(sinhOverQ, alpha)),
    mul(sinhOverQ, b),
    mul(sinhOverQ, c),
    sub(cosh, mul(sinhOverQ, alpha)),
  ];
}

/**
 * E = exp(L dt/2) of every stored mode, 8 floats per mode: E00, E01, E10, E11 as (re, im). The
 * k = 0 mode keeps Ω̂ = 0 (its row and column are zero in L).
 */
export function hwPropagators(params: HwParams, grid: SpectralGrid, dt: number): Float64Array {
  const out = new Float64Array(8 * grid.spectralSize);
  for (let row = 0; row < grid.ny; row++) {
    const ky = grid.ky(row);
    for (let col = 0; col < grid.ncols; col++) {
      const i = row * grid.ncols + col;
      const l = hwLinearOperator(params, grid.k2[i]!, ky, row === 0);
      const e = expm2(l.map((z) => scale(z, dt / 2)) as Matrix2);
      e.forEach((z, j) => out.set(z, 8 * i + 2 * j));
    }
  }
  return out;
}

/** (n, Ω) ← E^power (n, Ω) at mode i, in place on the interleaved pair (nr, ni, wr, wi). */
export function applyPropagator(e: Float64Array, i: number, power: number, v: Float64Array): void {
  const o = 8 * i;
  for (let p = 0; p < power; p++) {
    const nr = v[0]!;
    const ni = v[1]!;
    const wr = v[2]!;
    const wi = v[3]!;
    v[0] = e[o]! * nr - e[o + 1]! * ni + e[o + 2]! * wr - e[o + 3]! * wi;
    v[1] = e[o]! * ni + e[o + 1]! * nr + e[o + 2]! * wi + e[o + 3]! * wr;
    v[2] = e[o + 4]! * nr - e[o + 5]! * ni + e[o + 6]! * wr - e[o + 7]! * wi;
    v[3] = e[o + 4]! * ni + e[o + 5]! * nr + e[o + 6]! * wi + e[o + 7]! * wr;
  }
}
