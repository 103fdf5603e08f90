/**
 * The closure network: a small MLP from the regime (ln c1, ln κ, standardised over the training
 * regimes) to the closure coefficients, c_j = scale_j · y_j, where scale_j is the size of the
 * term's a-priori coefficients across the training regimes (so every output is O(1)). The jax-js
 * forward trains; the plain-TS forward is what `closure run` evaluates at any regime.
 */
import * as jax from '@jax-js/jax';
import type { Params } from '../../nn/adam.ts';
import { linear } from '../../nn/layers.ts';
import type { ParameterShapes } from '../../nn/params.ts';
import { uniformGenerator } from '../../spectral/random.ts';

const np = jax.numpy;

export interface ClosureNetwork {
  hidden: number;
  outputs: number;
  /** Feature standardisation: (ln c1, ln κ) − mean, divided by std. */
  featureMean: [number, number];
  featureStd: [number, number];
  /** Coefficient scale per output. */
  scale: number[];
}

export function networkShapes(net: Pick<ClosureNetwork, 'hidden' | 'outputs'>): ParameterShapes {
  const h = net.hidden;
  return [
    ['l1.w', [h, 2]],
    ['l1.b', [h]],
    ['l2.w', [h, h]],
    ['l2.b', [h]],
    ['out.w', [net.outputs, h]],
    ['out.b', [net.outputs]],
  ];
}

/** Seeded initial weights (scaled uniform; the output layer starts near zero coefficients). */
export function networkInitialValues(
  net: Pick<ClosureNetwork, 'hidden' | 'outputs'>,
  seed: number,
): Map<string, Float32Array> {
  const random = uniformGenerator(seed);
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of networkShapes(net)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape[1] ?? 1;
    const bound = name.endsWith('.b') ? 0 : (name.startsWith('out') ? 0.1 : 1) / Math.sqrt(fanIn);
    values.set(
      name,
      Float32Array.from({ length: size }, () => (2 * random() - 1) * bound),
    );
  }
  return values;
}

export function regimeFeatures(net: ClosureNetwork, c1: number, kappa: number): [number, number] {
  return [
    (Math.log(c1) - net.featureMean[0]) / net.featureStd[0],
    (Math.log(kappa) - net.featureMean[1]) / net.featureStd[1],
  ];
}

/** Standardisation of (ln c1, ln κ) over the training regimes (std 1 where a feature is constant). */
export function featureNormalisation(regimes: { c1: number; kappa: number }[]) {
  const stats = (values: number[]) => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    return [mean, std > 1e-9 ? std : 1] as const;
  };
  const [m1, s1] = stats(regimes.map((r) => Math.log(r.c1)));
  const [m2, s2] = stats(regimes.map((r) => Math.log(r.kappa)));
  return { featureMean: [m1, m2] as [number, number], featureStd: [s1, s2] as [number, number] };
}

/** Coefficients [R, J] for features [R, 2] (consumes features, not params or scale [J]). */
export function networkForward(params: Params, features: jax.Array, scale: jax.Array): jax.Array {
  const h1 = np.tanh(linear(features, params['l1.w']!.ref).add(params['l1.b']!.ref));
  const h2 = np.tanh(linear(h1, params['l2.w']!.ref).add(params['l2.b']!.ref));
  return linear(h2, params['out.w']!.ref).add(params['out.b']!.ref).mul(scale.ref);
}

/** The same forward in plain TS (float64) for one regime. */
export function networkCoefficients(
  net: ClosureNetwork,
  values: Map<string, Float32Array>,
  c1: number,
  kappa: number,
): number[] {
  const layer = (input: number[], prefix: string, out: number, act: boolean) => {
    const w = values.get(`${prefix}.w`)!;
    const b = values.get(`${prefix}.b`)!;
    return Array.from({ length: out }, (_, o) => {
      let s = b[o]!;
      input.forEach((v, i) => (s += w[o * input.length + i]! * v));
      return act ? Math.tanh(s) : s;
    });
  };
  const h1 = layer(regimeFeatures(net, c1, kappa), 'l1', net.hidden, true);
  const h2 = layer(h1, 'l2', net.hidden, true);
  return layer(h2, 'out', net.outputs, false).map((y, j) => y * net.scale[j]!);
}
