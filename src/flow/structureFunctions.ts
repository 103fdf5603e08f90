/**
 * Two-point statistics for `flow eval`: structure functions S_p(r) = ⟨|δf(r)|^p⟩, p = 2..6, and
 * the flatness S4 / S2², at separations r (in grid cells) along both axes. Spectra and one-point
 * PDFs do not see how small-scale intermittency is arranged in space; these do. For a vorticity
 * channel the increments are the longitudinal velocity increments δu_L: the velocity
 * u = (∂ψ/∂y, −∂ψ/∂x) with Δψ = −ω on the periodic unit square, u_x differenced along x and u_y
 * along y. Other channels (HW density) use scalar increments of the field itself along both axes.
 */
import { channelOf, unitSquareTransforms } from './unitSquare.ts';

export const ORDERS = [2, 3, 4, 5, 6] as const;

/** Separations 1, 2, 3, 4, 6, 8, 12, ... up to a quarter of the grid (in cells). */
export function separations(n: number): number[] {
  const out: number[] = [];
  for (let r = 1; r <= n / 4; r *= 2) {
    out.push(r);
    if (r >= 2 && (3 * r) / 2 <= n / 4) out.push((3 * r) / 2);
  }
  return out.sort((a, b) => a - b);
}

/** Velocity (u_x, u_y) on an n x n periodic unit square from its vorticity (row-major (y, x)). */
export function velocityFromVorticity(omega: ArrayLike<number>, n: number) {
  const t = unitSquareTransforms(n);
  const g = t.grid;
  const real = t.newReal();
  for (let i = 0; i < n * n; i++) real[i] = omega[i]!;
  const w = t.newSpectral();
  t.forward(real, w);
  const ux = t.newSpectral();
  const uy = t.newSpectral();
  for (let row = 0; row < n; row++) {
    // The Nyquist row and column have no signed wavenumber: their derivative is set to zero.
    const ky = 2 * row === n ? 0 : g.ky(row);
    for (let col = 0; col < g.ncols; col++) {
      const i = row * g.ncols + col;
      const k2 = g.k2[i]!;
      if (k2 === 0) continue;
      const kx = 2 * col === n ? 0 : g.kx(col);
      // ψ = ω / k²; u_x = i ky ψ, u_y = −i kx ψ.
      const re = w[2 * i]! / k2;
      const im = w[2 * i + 1]! / k2;
      ux[2 * i] = -ky * im;
      ux[2 * i + 1] = ky * re;
      uy[2 * i] = kx * im;
      uy[2 * i + 1] = -kx * re;
    }
  }
  const vx = t.newReal();
  const vy = t.newReal();
  t.inverse(ux, vx);
  t.inverse(uy, vy);
  return { ux: vx, uy: vy };
}

export interface StructureFunctions {
  /** 'velocity': longitudinal velocity increments of a vorticity channel; 'scalar': the field. */
  kind: 'velocity' | 'scalar';
  /** Separations in cells, and as a fraction of the box (comparable across resolutions). */
  r: number[];
  rBox: number[];
  /** S[p] over r for p = 2..6 (keyed by order). */
  S: Record<number, number[]>;
  /** S4 / S2² over r (3 for Gaussian increments). */
  flatness: number[];
}

/**
 * Structure functions of channel `c` of `count` fields [count, n, n, C], averaged over all points,
 * both axes and all fields.
 */
export function structureFunctions(
  fields: ArrayLike<number>,
  count: number,
  n: number,
  C: number,
  c: number,
  kind: 'velocity' | 'scalar',
): StructureFunctions {
  const r = separations(n);
  const sums = ORDERS.map(() => new Float64Array(r.length));
  const field = new Float64Array(n * n);
  const add = (along: Float64Array, axis: 'x' | 'y') => {
    r.forEach((dr, j) => {
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++) {
          const there = axis === 'x' ? y * n + ((x + dr) % n) : ((y + dr) % n) * n + x;
          const d = Math.abs(along[there]! - along[y * n + x]!);
          const d2 = d * d;
          sums[0]![j]! += d2;
          sums[1]![j]! += d2 * d;
          sums[2]![j]! += d2 * d2;
          sums[3]![j]! += d2 * d2 * d;
          sums[4]![j]! += d2 * d2 * d2;
        }
    });
  };
  for (let s = 0; s < count; s++) {
    channelOf(fields, s, n, C, c, field);
    if (kind === 'velocity') {
      const u = velocityFromVorticity(field, n);
      add(u.ux, 'x');
      add(u.uy, 'y');
    } else {
      add(field, 'x');
      add(field, 'y');
    }
  }
  const points = 2 * count * n * n;
  const S: Record<number, number[]> = {};
  ORDERS.forEach((p, o) => (S[p] = Array.from(sums[o]!, (v) => v / points)));
  return {
    kind,
    r,
    rBox: r.map((v) => v / n),
    S,
    flatness: r.map((_, j) => S[4]![j]! / S[2]![j]! ** 2),
  };
}
