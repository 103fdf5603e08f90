/**
 * Seeded random numbers for initial conditions and noise fields: the same seed gives the same
 * field on every device, since fields are always drawn here on the CPU and then uploaded.
 */

/** SplitMix32-style generator: uniform floats in [0, 1). */
export function uniformGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 2 ** 32;
  };
}

/** Standard normal samples (Box-Muller) from a seed. */
export function normalGenerator(seed: number): () => number {
  const uniform = uniformGenerator(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const u = 1 - uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** `count` standard normal values. */
export function whiteNoise(count: number, seed: number): Float64Array {
  const next = normalGenerator(seed);
  return Float64Array.from({ length: count }, next);
}
