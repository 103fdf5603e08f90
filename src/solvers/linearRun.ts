/**
 * `hw linear`: seeds the unstable eigenmode of one (kx, ky) at tiny amplitude, advances it with the
 * full nonlinear solver on the chosen device and fits the growth rate and frequency of φ̂ (a single
 * mode has no self-interaction, so the solver must reproduce linear theory to time-step accuracy).
 */
import { openDevice } from '../runtime/device.ts';
import { type SimulationConfig, validateConfig } from './config.ts';
import type { Integrator } from './integrator.ts';
import { hwDispersion } from './linear.ts';
import { createStepper } from './session.ts';

export interface LinearOptions {
  nx: number;
  c1: number;
  kappa: number;
  k0: number;
  kx: number;
  ky: number;
  nu: number;
  hyperOrder: number;
  modified: boolean;
  dt: number;
  tEnd: number;
  /** rk4 (default) or ifrk4, which integrates this single mode exactly. */
  integrator?: Integrator;
  device: string;
}

function latticeIndex(k: number, k0: number, axis: string): number {
  const index = Math.round(k / k0);
  if (Math.abs(index * k0 - k) > 1e-9 * Math.max(1, Math.abs(k)))
    throw new Error(
      `${axis} = ${k} is not on the k0 = ${k0} lattice: use a multiple of k0 (e.g. ${index * k0})`,
    );
  return index;
}

/** Least-squares slope of y(t). */
function slope(t: number[], y: number[]): number {
  const n = t.length;
  const tm = t.reduce((a, b) => a + b, 0) / n;
  const ym = y.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (t[i]! - tm) * (y[i]! - ym);
    den += (t[i]! - tm) ** 2;
  }
  return num / den;
}

export async function measureLinearMode(o: LinearOptions) {
  const l = (2 * Math.PI) / o.k0;
  const config: SimulationConfig = {
    model: {
      kind: 'hw',
      c1: o.c1,
      kappa: o.kappa,
      nu: o.nu,
      hyperOrder: o.hyperOrder,
      modified: o.modified,
    },
    nx: o.nx,
    ny: o.nx,
    lx: l,
    ly: l,
    scheme: 'spectral',
    integrator: o.integrator ?? 'rk4',
    dt: o.dt,
    tEnd: o.tEnd,
    seed: 0,
    init: 'noise',
    initAmplitude: 0,
    saveEvery: 0,
    diagEvery: 1,
  };
  const grid = validateConfig(config);
  const col = latticeIndex(o.kx, o.k0, 'kx');
  const rowIndex = latticeIndex(o.ky, o.k0, 'ky');
  if (col > grid.kmaxX || Math.abs(rowIndex) > grid.kmaxY)
    throw new Error(`mode (${o.kx}, ${o.ky}) is outside the de-aliased grid: raise --nx`);
  if (o.modified && rowIndex === 0)
    throw new Error('a zonal mode (ky = 0) has no drift wave in modified HW: choose ky != 0');
  const kx = col * o.k0;
  const ky = rowIndex * o.k0;
  const mode = hwDispersion(o.c1, o.kappa, kx, ky, o.nu, o.hyperOrder);
  const k2 = kx * kx + ky * ky;
  const amplitude = 1e-6;
  const fields = [new Float64Array(2 * grid.spectralSize), new Float64Array(2 * grid.spectralSize)];
  // φ̂ = a at k (and its conjugate at −k when kx = 0): n̂ = (n/φ) a, Ω̂ = −k² a.
  const place = (row: number, conjugate: boolean) => {
    const i = 2 * (row * grid.ncols + col);
    const ratio = mode.densityOverPotential;
    fields[0]![i] = amplitude * ratio.re;
    fields[0]![i + 1] = amplitude * (conjugate ? -ratio.im : ratio.im);
    fields[1]![i] = -k2 * amplitude;
  };
  const row = rowIndex >= 0 ? rowIndex : grid.ny + rowIndex;
  place(row, false);
  if (col === 0 && rowIndex !== 0) place(grid.ny - row, true);
  const device = await openDevice({ prefer: o.device as never });
  const stepper = await createStepper(device, grid, config);
  await stepper.setState(fields);
  const samples = 20;
  const steps = Math.max(1, Math.round(o.tEnd / o.dt / samples));
  const times: number[] = [];
  const logAmplitude: number[] = [];
  const phase: number[] = [];
  for (let s = 0; s <= samples; s++) {
    if (s > 0) await stepper.advance(steps, steps);
    const state = await stepper.getState();
    const i = 2 * (row * grid.ncols + col);
    const pr = -state[1]![i]! / k2;
    const pi = -state[1]![i + 1]! / k2;
    times.push(s * steps * o.dt);
    logAmplitude.push(Math.log(Math.hypot(pr, pi)));
    let angle = Math.atan2(pi, pr);
    const previous = phase.at(-1);
    if (previous !== undefined)
      angle += 2 * Math.PI * Math.round((previous - angle) / (2 * Math.PI));
    phase.push(angle);
  }
  stepper.destroy();
  const growthRate = slope(times, logAmplitude);
  const frequency = -slope(times, phase); // fields ∝ e^{−iωt}
  const relative = (measured: number, exact: number) =>
    Math.abs(measured - exact) / Math.max(Math.abs(exact), 1e-12);
  return {
    kx,
    ky,
    c1: o.c1,
    kappa: o.kappa,
    nu: o.nu,
    nx: o.nx,
    dt: o.dt,
    integrator: config.integrator,
    tEnd: steps * samples * o.dt,
    device: stepper.deviceLabel,
    analytic: { growthRate: mode.growthRate, frequency: mode.frequency },
    measured: { growthRate, frequency },
    relativeError: {
      growthRate: relative(growthRate, mode.growthRate),
      frequency: relative(frequency, mode.frequency),
    },
  };
}
