/**
 * The Fourier neural operator that is FOT-CFM's velocity field, in jax-js (differentiated with
 * `grad`, trained with AdamW). Fields are channels-last [B, H, W, C] on the periodic unit square.
 * Lifting (pointwise linear from the field channels plus the flow time t), L layers of
 *   v <- gelu(K v + W v + b),  K v = irfft2(R . rfft2(v)) keeping |kx| < M, |ky| < M,
 * (no gelu after the last), and a two-layer pointwise projection. The spectral weights R are indexed
 * by wavenumber, not by grid point, so one set of weights runs on any grid of at least 2M points a
 * side: that is what lets one model sample at 2x and 4x its training resolution.
 */
import * as jax from '@jax-js/jax';
import type { Params } from '../nn/adam.ts';
import { normalGenerator } from '../spectral/random.ts';

const np = jax.numpy;

export interface FnoShape {
  /** Field channels in and out (1 for vorticity, 2 for HW density and vorticity). */
  channels: number;
  width: number;
  modes: number;
  layers: number;
  /** Hidden width of the projection. */
  projection: number;
}

export function fnoParameterShapes(s: FnoShape): [string, number[]][] {
  const out: [string, number[]][] = [
    ['lift.w', [s.channels + 1, s.width]],
    ['lift.b', [s.width]],
  ];
  for (let l = 0; l < s.layers; l++)
    for (const block of ['low', 'high'])
      out.push(
        [`layer${l}.${block}.re`, [s.modes, s.modes, s.width, s.width]],
        [`layer${l}.${block}.im`, [s.modes, s.modes, s.width, s.width]],
      );
  for (let l = 0; l < s.layers; l++)
    out.push([`layer${l}.w`, [s.width, s.width]], [`layer${l}.b`, [s.width]]);
  out.push(
    ['proj1.w', [s.width, s.projection]],
    ['proj1.b', [s.projection]],
    ['proj2.w', [s.projection, s.channels]],
    ['proj2.b', [s.channels]],
  );
  return out;
}

/** Seeded initial values: pointwise layers 1/sqrt(fan-in), spectral weights 1/width (as FNO). */
export function fnoInitialValues(s: FnoShape, seed: number): Map<string, Float32Array> {
  const normal = normalGenerator(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of fnoParameterShapes(s)) {
    const count = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (name.endsWith('.b')) values = new Float32Array(count);
    else if (name.endsWith('.re') || name.endsWith('.im'))
      values = Float32Array.from({ length: count }, () => normal() / s.width);
    else {
      const std = 1 / Math.sqrt(shape[0]!);
      values = Float32Array.from({ length: count }, () => std * normal());
    }
    out.set(name, values);
  }
  return out;
}

export function fnoParams(s: FnoShape, values: Map<string, Float32Array>): Params {
  const params: Params = {};
  for (const [name, shape] of fnoParameterShapes(s)) {
    const data = values.get(name);
    if (!data) throw new Error(`FNO parameter ${name} missing`);
    params[name] = np.array(data.slice()).reshape(shape);
  }
  return params;
}

/** Complex einsum over the channel axis: (a + ib) . (wr + i wi) for [B, M, M, Ci] x [M, M, Ci, Co]. */
function complexMix(
  re: jax.Array,
  im: jax.Array,
  wr: jax.Array,
  wi: jax.Array,
): { real: jax.Array; imag: jax.Array } {
  const mix = (a: jax.Array, w: jax.Array) => np.einsum('bxyi,xyio->bxyo', a, w);
  const real = mix(re.ref, wr.ref).sub(mix(im.ref, wi.ref));
  const imag = mix(re, wi).add(mix(im, wr));
  return { real, imag };
}

/** The spectral convolution K v of one layer, for v [B, H, W, width]. */
export function spectralConv(p: Params, l: number, v: jax.Array, s: FnoShape): jax.Array {
  const [b, h, w] = v.shape as [number, number, number, number];
  const m = s.modes;
  const half = w / 2 + 1;
  if (h < 2 * m || half < m)
    throw new Error(
      `a ${h}x${w} grid is too small for ${m} Fourier modes (needs ${2 * m} points a side)`,
    );
  const spec = np.fft.rfft2(v, [1, 2]);
  const take = (x: jax.Array, rows: [number, number]) => x.slice([], rows, [0, m], []);
  const low = complexMix(
    take(spec.real.ref, [0, m]),
    take(spec.imag.ref, [0, m]),
    p[`layer${l}.low.re`]!.ref,
    p[`layer${l}.low.im`]!.ref,
  );
  const high = complexMix(
    take(spec.real, [h - m, h]),
    take(spec.imag, [h - m, h]),
    p[`layer${l}.high.re`]!.ref,
    p[`layer${l}.high.im`]!.ref,
  );
  const assemble = (top: jax.Array, bottom: jax.Array) => {
    const rows = np.concatenate([top, np.zeros([b, h - 2 * m, m, s.width]), bottom], 1);
    return np.concatenate([rows, np.zeros([b, h, half - m, s.width])], 2);
  };
  return np.fft.irfft2(
    { real: assemble(low.real, high.real), imag: assemble(low.imag, high.imag) },
    [1, 2],
  );
}

const pointwise = (x: jax.Array, w: jax.Array, bias: jax.Array) => np.matmul(x, w).add(bias);

/** Velocity v(x, t) for fields x [B, H, W, C] and times t [B]; does not consume params. */
export function fnoForward(p: Params, x: jax.Array, t: jax.Array, s: FnoShape): jax.Array {
  const [b, h, w] = x.shape as [number, number, number, number];
  const time = np.broadcastTo(t.reshape([b, 1, 1, 1]), [b, h, w, 1]);
  let v = pointwise(np.concatenate([x, time], 3), p['lift.w']!.ref, p['lift.b']!.ref);
  for (let l = 0; l < s.layers; l++) {
    const mixed = spectralConv(p, l, v.ref, s).add(
      pointwise(v, p[`layer${l}.w`]!.ref, p[`layer${l}.b`]!.ref),
    );
    v = l < s.layers - 1 ? jax.nn.gelu(mixed) : mixed;
  }
  const hidden = jax.nn.gelu(pointwise(v, p['proj1.w']!.ref, p['proj1.b']!.ref));
  return pointwise(hidden, p['proj2.w']!.ref, p['proj2.b']!.ref);
}
