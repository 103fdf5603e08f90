/**
 * HW linear theory: the dispersion relation k²ω² + i c1 (1 + k²) ω − i c1 κ ky = 0 of the hw2d-form
 * equations (fields ∝ e^{i(k·x − ωt)}), shifted by −i ν k^{2N} for the hyper-diffusion, and its
 * unstable eigenmode, which `driftflow hw linear` seeds and then measures in the full solver.
 */

export interface Complex {
  re: number;
  im: number;
}

function sqrtComplex(z: Complex): Complex {
  const r = Math.hypot(z.re, z.im);
  const re = Math.sqrt((r + z.re) / 2);
  const im = Math.sign(z.im || 1) * Math.sqrt(Math.max(0, (r - z.re) / 2));
  return { re, im };
}

export interface LinearMode {
  /** ω = ωr + iγ of the most unstable root. */
  omega: Complex;
  growthRate: number;
  frequency: number;
  /** n̂/φ̂ of that root. */
  densityOverPotential: Complex;
}

export function hwDispersion(
  c1: number,
  kappa: number,
  kx: number,
  ky: number,
  nu = 0,
  hyperOrder = 3,
): LinearMode {
  const k2 = kx * kx + ky * ky;
  if (k2 === 0) throw new Error('the k = 0 mode has no drift wave: choose kx or ky non-zero');
  // ω = [−i c1(1+k²) ± sqrt(−c1²(1+k²)² + 4 i k² c1 κ ky)] / (2k²)
  const b = c1 * (1 + k2);
  const root = sqrtComplex({ re: -b * b, im: 4 * k2 * c1 * kappa * ky });
  const candidates = [
    { re: root.re / (2 * k2), im: (-b + root.im) / (2 * k2) },
    { re: -root.re / (2 * k2), im: (-b - root.im) / (2 * k2) },
  ];
  const best = candidates[0]!.im >= candidates[1]!.im ? candidates[0]! : candidates[1]!;
  const damping = nu * Math.pow(k2, hyperOrder);
  const omega = { re: best.re, im: best.im - damping };
  // From the vorticity equation: −iω(−k²φ) = c1(φ − n)  ⇒  n/φ = 1 − iωk²/c1 (undamped ω).
  const ratio = { re: 1 + (best.im * k2) / c1, im: (-best.re * k2) / c1 };
  return { omega, growthRate: omega.im, frequency: omega.re, densityOverPotential: ratio };
}
