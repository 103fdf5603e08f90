/**
 * ExpertFlow's routing-path predictor, in jax-js: a small causal transformer over the tokens of a
 * sequence (prompt, then decoded tokens) whose output at position t is one logit per (MoE layer,
 * expert) for the routes token t will take through every layer -- all layers at once, before the
 * MoE model runs the token. Trained with binary cross-entropy against the true top-k sets recorded
 * in routing traces. The paper uses a T5 encoder-decoder of d_model 32 (prompt into the encoder,
 * decoded tokens into the decoder); a decoder-only model over [prompt; decoded] sees the same
 * information and is one stack instead of two. Plain-TS inference lives in predictorInfer.ts.
 */
import * as jax from '@jax-js/jax';
import type { Params } from '../../nn/adam.ts';
import { linear, rmsNorm } from '../../nn/layers.ts';
import { paramsFromValues } from '../../nn/params.ts';
import { normalGenerator } from '../../spectral/random.ts';

const np = jax.numpy;

export interface PredictorShape {
  vocab: number;
  width: number;
  layers: number;
  heads: number;
  ffn: number;
  /** Longest sequence (learned position embeddings). */
  maxPositions: number;
  moeLayers: number;
  experts: number;
}

export function predictorParameterShapes(s: PredictorShape): [string, number[]][] {
  const out: [string, number[]][] = [
    ['embed', [s.vocab, s.width]],
    ['position', [s.maxPositions, s.width]],
  ];
  for (let l = 0; l < s.layers; l++) {
    const p = `layer${l}.`;
    out.push(
      [`${p}norm1`, [s.width]],
      [`${p}qkv`, [3 * s.width, s.width]],
      [`${p}out`, [s.width, s.width]],
      [`${p}norm2`, [s.width]],
      [`${p}up`, [s.ffn, s.width]],
      [`${p}down`, [s.width, s.ffn]],
    );
  }
  out.push(['final_norm', [s.width]], ['head', [s.moeLayers * s.experts, s.width]]);
  out.push(['head_bias', [s.moeLayers * s.experts]]);
  return out;
}

export function predictorInitialValues(s: PredictorShape, seed: number): Map<string, Float32Array> {
  const normal = normalGenerator(seed);
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of predictorParameterShapes(s)) {
    const count = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (name.endsWith('norm1') || name.endsWith('norm2') || name === 'final_norm')
      values = new Float32Array(count).fill(1);
    else if (name === 'head_bias') values = new Float32Array(count);
    else {
      let std = name === 'embed' || name === 'position' ? 0.5 : 1 / Math.sqrt(shape[1]!);
      if (name.endsWith('out') || name.endsWith('down')) std /= Math.sqrt(2 * s.layers);
      values = Float32Array.from({ length: count }, () => std * normal());
    }
    out.set(name, values);
  }
  return out;
}

export const predictorParams = (s: PredictorShape, values: Map<string, Float32Array>): Params =>
  paramsFromValues(predictorParameterShapes(s), values, 'predictor');

export const PREDICTOR_NORM_EPS = 1e-5;
const norm = (x: jax.Array, w: jax.Array): jax.Array => rmsNorm(x, w, PREDICTOR_NORM_EPS);

/** Logits [B, T, L*E] for tokens [B, T]; does not consume params. */
export function predictorForward(p: Params, tokens: jax.Array, s: PredictorShape): jax.Array {
  const [b, t] = tokens.shape as [number, number];
  const hd = s.width / s.heads;
  const oneHot = jax.nn.oneHot(tokens.reshape([b * t]), s.vocab);
  let x = np.matmul(oneHot, p.embed!.ref).reshape([b, t, s.width]);
  x = x.add(p.position!.ref.slice([0, t]).reshape([1, t, s.width]));
  for (let l = 0; l < s.layers; l++) {
    const w = (name: string): jax.Array => p[`layer${l}.${name}`]!.ref;
    const qkv = linear(norm(x.ref, w('norm1')), w('qkv')).reshape([b, t, 3, s.heads, hd]);
    const q = qkv.ref.slice([], [], 0);
    const k = qkv.ref.slice([], [], 1);
    const v = qkv.slice([], [], 2);
    const attn = jax.nn.dotProductAttention(q, k, v, { isCausal: true });
    x = x.add(linear(attn.reshape([b, t, s.width]), w('out')));
    const h = jax.nn.gelu(linear(norm(x.ref, w('norm2')), w('up')));
    x = x.add(linear(h, w('down')));
  }
  return linear(norm(x, p.final_norm!.ref), p.head!.ref).add(p.head_bias!.ref);
}

/**
 * Masked binary cross-entropy (mean over valid positions and all L*E outputs): targets [B, T, L*E]
 * in {0, 1}, mask [B, T] with 1 on real tokens.
 */
export function predictorLoss(logits: jax.Array, targets: jax.Array, mask: jax.Array): jax.Array {
  // log(1 + e^x) - y x, written stably through softplus.
  const perOutput = jax.nn.softplus(logits.ref).sub(logits.mul(targets));
  const perToken = np.mean(perOutput, -1);
  return np.sum(perToken.mul(mask.ref)).div(np.sum(mask));
}
