/**
 * Fixed-step RK4, classical or with an integrating factor (Lawson IF-RK4) for the linear part
 * (NS: viscosity and drag per mode; HW: the 2x2 operator of coupling, drive, dissipation and
 * closure, propagator.ts), written as four stage updates so the CPU and GPU steppers run identical
 * arithmetic:
 *
 *   after stage s with RHS k_s:  u_{s+1} = E^{a_s} u + dt β_s E^{b_s} k_s,  acc += γ_s E^{c_s} k_s
 *   final:                       u_new   = E² u + dt/6 (acc + k4)
 *
 * with E = exp(L dt/2) per mode, a scalar or a 2x2 matrix (E = 1 for classical RK4, where L is
 * then part of the RHS).
 */

export type Integrator = 'rk4' | 'ifrk4';
export const INTEGRATORS: Integrator[] = ['rk4', 'ifrk4'];
export const INTEGRATOR_HELP =
  'rk4 | ifrk4 (integrating factor: the linear terms exactly, HW coupling and closure included; only the advective CFL limits dt)';

export interface StageCoefficients {
  /** Powers of E applied to u and k, weight β of dt·k in the next stage input. */
  a: number;
  b: number;
  beta: number;
  /** Weight γ and power of E of k in the accumulator. */
  gamma: number;
  c: number;
}

export const STAGES: StageCoefficients[] = [
  { a: 1, b: 1, beta: 0.5, gamma: 1, c: 2 },
  { a: 1, b: 0, beta: 0.5, gamma: 2, c: 1 },
  { a: 2, b: 1, beta: 1, gamma: 2, c: 1 },
];

/** Largest |z| on the negative real axis where classical RK4 is stable. */
export const RK4_REAL_LIMIT = 2.785;
/** Largest |z| on the imaginary axis where classical RK4 is stable. */
export const RK4_IMAG_LIMIT = 2.828;
