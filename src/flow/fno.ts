/**
 * The Fourier neural operator that is FOT-CFM's velocity field, in jax-js (differentiated with
 * `grad`, trained with AdamW). Fields are channels-last [B, H, W, C] on the periodic unit square.
 * Lifting (pointwise linear from the field channels plus the flow time t), L layers of
 *   v <- gelu(K v + W v + b),  K v = irfft2(R . rfft2(v)) keeping |kx| < M, |ky| < M,
 * (no gelu after the last), and a two-layer pointwise projection. The spectral weights R are indexed
 * by wavenumber, not by grid point, so one set of weights runs on any grid of at least 2M points a
 * side: that is what lets one model sample at 2x and 4x its training resolution.
 * With `timeFeatures` > 0 each layer's pre-activation is also modulated by the time (FiLM):
 * (K v + W v + b)·(1 + γ_l(t)) + β_l(t), γ and β per channel from a small MLP on Fourier features
 * of t. Without it t reaches the layers only as a constant input channel, so a time-dependent gain
 * per mode must come from the GELUs' curvature. On NS it did not help (docs/fotcfm.md).
 */
import * as jax from '@jax-js/jax';
import type { Params } from '../nn/adam.ts';
import { paramsFromValues } from '../nn/params.ts';
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
  /**
   * Fourier features of t feeding the per-layer FiLM modulation (even; 0 or absent, as in files
   * written before it existed: time enters only through the lifting).
   */
  timeFeatures?: number;
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
  const features = s.timeFeatures ?? 0;
  if (features > 0) {
    out.push(['time.w', [features, s.width]], ['time.b', [s.width]]);
    for (let l = 0; l < s.layers; l++)
      out.push([`layer${l}.film.w`, [s.width, 2 * s.width]], [`layer${l}.film.b`, [2 * s.width]]);
  }
  out.push(
    ['proj1.w', [s.width, s.projection]],
    ['proj1.b', [s.projection]],
    ['proj2.w', [s.projection, s.channels]],
    ['proj2.b', [s.channels]],
  );
  return out;
}

/**
 * Seeded initial values: pointwise layers 1/sqrt(fan-in), spectral weights 1/width (as FNO); the
 * FiLM output layers start at zero, so a new model starts as the plain FNO.
 */
export function fnoInitialValues(s: FnoShape, seed: number): Map<string, Float32Array> {
  const normal = normalGenerator(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of fnoParameterShapes(s)) {
    const count = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (name.endsWith('.b') || name.endsWith('film.w')) values = new Float32Array(count);
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

export const fnoParams = (s: FnoShape, values: Map<string, Float32Array>): Params =>
  paramsFromValues(fnoParameterShapes(s), values, 'FNO');

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

/** The spectral convolution K v of one layer through jax-js's FFT (the reference path). */
export function spectralConvFft(p: Params, l: number, v: jax.Array, s: FnoShape): jax.Array {
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

/**
 * Truncated DFT matrices of an h x w grid for M modes: forward along x (kx < M) and y (the 2M rows
 * ky = 0..M-1 and h-M..h-1), and the inverse with irfft2's 1/(hw) and its weight 2 for kx > 0.
 */
function dftMatrices(h: number, w: number, m: number) {
  const rows = [
    ...Array.from({ length: m }, (_, i) => i),
    ...Array.from({ length: m }, (_, i) => h - m + i),
  ];
  /** [n, count] table of f(angle(i, k)), computed in f64. */
  const table = (
    n: number,
    count: number,
    angle: (i: number, k: number) => number,
    f: (a: number) => number,
  ) =>
    Float32Array.from({ length: n * count }, (_, at) =>
      f(angle(Math.floor(at / count), at % count)),
    );
  const ax = (x: number, k: number) => (2 * Math.PI * k * x) / w;
  const ay = (y: number, r: number) => (2 * Math.PI * rows[r]! * y) / h;
  const inverseWeight = (k: number) => (k === 0 ? 1 : 2) / (h * w);
  const make = (data: Float32Array<ArrayBuffer>, shape: number[]) => np.array(data).reshape(shape);
  return {
    cx: make(table(w, m, ax, Math.cos), [w, m]),
    sx: make(table(w, m, ax, Math.sin), [w, m]),
    cy: make(table(h, 2 * m, ay, Math.cos), [h, 2 * m]),
    sy: make(table(h, 2 * m, ay, Math.sin), [h, 2 * m]),
    // Inverse along x: [m, w]; irfft2's 1/(hw) and weight 2 for kx > 0 are in `weights`.
    cxi: make(
      table(m, w, (k, x) => ax(x, k), Math.cos),
      [m, w],
    ),
    sxi: make(
      table(m, w, (k, x) => ax(x, k), Math.sin),
      [m, w],
    ),
    weights: make(
      Float32Array.from({ length: m }, (_, k) => inverseWeight(k)),
      [1, 1, m, 1],
    ),
  };
}

/**
 * The spectral convolution K v of one layer, for v [B, H, W, width]: the kept modes by truncated
 * DFT matrices (dense matmuls, O(N M) per line, which on a GPU beat a full FFT when M << N), the
 * complex mixing, and the inverse the same way. Equal to `spectralConvFft` (tested).
 */
export function spectralConv(p: Params, l: number, v: jax.Array, s: FnoShape): jax.Array {
  const [, h, w] = v.shape as [number, number, number, number];
  const m = s.modes;
  if (h < 2 * m || w / 2 + 1 < m)
    throw new Error(
      `a ${h}x${w} grid is too small for ${m} Fourier modes (needs ${2 * m} points a side)`,
    );
  const d = dftMatrices(h, w, m);
  const e = (spec: string, a: jax.Array, b: jax.Array) => np.einsum(spec, a, b);
  // Forward along x: X = sum_w v e^{-i kx x}.
  const xr = e('bhwc,wk->bhkc', v.ref, d.cx);
  const xi = e('bhwc,wk->bhkc', v, d.sx).neg();
  // Forward along y: Y = sum_h X e^{-i ky y}.
  const yr = e('bhkc,hy->bykc', xr.ref, d.cy.ref).add(e('bhkc,hy->bykc', xi.ref, d.sy.ref));
  const yi = e('bhkc,hy->bykc', xi, d.cy.ref).sub(e('bhkc,hy->bykc', xr, d.sy.ref));
  const weight = (part: 're' | 'im') =>
    np.concatenate([p[`layer${l}.low.${part}`]!.ref, p[`layer${l}.high.${part}`]!.ref], 0);
  const z = complexMix(yr, yi, weight('re'), weight('im'));
  // Inverse along y: U = sum_ky Z e^{+i ky y}.
  const ur = e('bykc,hy->bhkc', z.real.ref, d.cy.ref).sub(e('bykc,hy->bhkc', z.imag.ref, d.sy.ref));
  const ui = e('bykc,hy->bhkc', z.real, d.sy).add(e('bykc,hy->bhkc', z.imag, d.cy));
  // Inverse along x, real part, irfft weights: out = sum_kx w_k (Ur cos - Ui sin).
  const scaled = (u: jax.Array) => u.mul(d.weights.ref);
  const out = e('bhkc,kw->bhwc', scaled(ur), d.cxi).sub(e('bhkc,kw->bhwc', scaled(ui), d.sxi));
  d.weights.dispose();
  return out;
}

/**
 * Pointwise linear layer x W + b over the last axis. The rows are split into S chunks and W, b are
 * broadcast per chunk, so the backward pass reduces W's and b's gradients in two stages (over the
 * rows of a chunk, then over the chunks) instead of one single-pass reduction over every grid point
 * of the batch, which jax-js runs with one thread per output (a 64x64 weight gradient over 131 072
 * rows took 21 ms on the H100; see docs/fotcfm.md).
 */
function pointwise(x: jax.Array, w: jax.Array, bias: jax.Array): jax.Array {
  const shape = x.shape;
  const [cin, cout] = w.shape as [number, number];
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  let chunks = 1;
  while (chunks < 128 && rows % (2 * chunks) === 0 && rows / (2 * chunks) >= 64) chunks *= 2;
  const y = np
    .matmul(
      x.reshape([chunks, rows / chunks, cin]),
      np.broadcastTo(w.reshape([1, cin, cout]), [chunks, cin, cout]),
    )
    .add(np.broadcastTo(bias.reshape([1, 1, cout]), [chunks, 1, cout]));
  return y.reshape([...shape.slice(0, -1), cout]);
}

/**
 * The hidden time embedding gelu(φ(t) W + b) [B, width], φ(t) = (sin πf t, cos πf t) for
 * f = 1, 2, 4, ... (features/2 of each), or null for a model without FiLM. Consumes t.
 */
function timeEmbedding(p: Params, t: jax.Array, s: FnoShape): jax.Array | null {
  const features = s.timeFeatures ?? 0;
  if (features === 0) {
    t.dispose();
    return null;
  }
  const [b] = t.shape as [number];
  const frequencies = Float32Array.from({ length: features / 2 }, (_, j) => Math.PI * 2 ** j);
  const angles = t.reshape([b, 1]).mul(np.array(frequencies).reshape([1, features / 2]));
  const phi = np.concatenate([np.sin(angles.ref), np.cos(angles)], 1);
  return jax.nn.gelu(np.matmul(phi, p['time.w']!.ref).add(p['time.b']!.ref));
}

/** Layer l's FiLM: mixed·(1 + γ) + β, [γ, β] = e W_l + b_l per batch row; consumes mixed and e. */
export function film(p: Params, l: number, mixed: jax.Array, e: jax.Array): jax.Array {
  const [b, h, w, c] = mixed.shape as [number, number, number, number];
  const gb = np.matmul(e, p[`layer${l}.film.w`]!.ref).add(p[`layer${l}.film.b`]!.ref);
  const part = (from: number) =>
    np.broadcastTo(gb.ref.slice([], [from, from + c]).reshape([b, 1, 1, c]), [b, h, w, c]);
  const scaled = mixed.ref.mul(part(0)).add(part(c));
  gb.dispose();
  return mixed.add(scaled);
}

/** Velocity v(x, t) for fields x [B, H, W, C] and times t [B]; does not consume params. */
export function fnoForward(p: Params, x: jax.Array, t: jax.Array, s: FnoShape): jax.Array {
  const [b, h, w] = x.shape as [number, number, number, number];
  const time = np.broadcastTo(t.ref.reshape([b, 1, 1, 1]), [b, h, w, 1]);
  const embedding = timeEmbedding(p, t, s);
  let v = pointwise(np.concatenate([x, time], 3), p['lift.w']!.ref, p['lift.b']!.ref);
  for (let l = 0; l < s.layers; l++) {
    let mixed = spectralConv(p, l, v.ref, s).add(
      pointwise(v, p[`layer${l}.w`]!.ref, p[`layer${l}.b`]!.ref),
    );
    if (embedding) mixed = film(p, l, mixed, embedding.ref);
    v = l < s.layers - 1 ? jax.nn.gelu(mixed) : mixed;
  }
  embedding?.dispose();
  const hidden = jax.nn.gelu(pointwise(v, p['proj1.w']!.ref, p['proj1.b']!.ref));
  return pointwise(hidden, p['proj2.w']!.ref, p['proj2.b']!.ref);
}
