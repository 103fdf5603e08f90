/**
 * A Mixtral-architecture MoE language model written in jax-js, so driftflow can train its own MoE
 * whose routing means something (random weights route almost uniformly, which makes expert
 * prediction meaningless). The forward pass is the transformers Mixtral one: RMSNorm, rotate-half
 * RoPE, grouped-query causal attention, a softmax router whose top-k probabilities are renormalised,
 * SwiGLU experts w2(silu(w1 x) * w3 x). For training, every expert runs on every token and the
 * router's top-k mask selects (exact, and cheap at this size); a Switch-style load-balancing loss
 * keeps all experts in use. Parameters are keyed by their Hugging Face tensor names, except the
 * experts, which are stacked per layer ([E, F, D]) and split into HF names by `toHfTensors`.
 */
import * as jax from '@jax-js/jax';
import { normalGenerator } from '../../spectral/random.ts';
import type { Params } from '../../nn/adam.ts';
import { linear, rmsNorm } from '../../nn/layers.ts';
import { paramsFromValues } from '../../nn/params.ts';
import { EMBED, FINAL_NORM, LM_HEAD } from '../tensorNames.ts';

const np = jax.numpy;

export interface LmShape {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  experts: number;
  topK: number;
  intermediate: number;
  /** Training context (tokens per sequence); also the RoPE table length. */
  context: number;
  ropeTheta: number;
  rmsEps: number;
}

export const headDim = (s: LmShape): number => s.hidden / s.heads;

const layerPrefix = (l: number): string => `model.layers.${l}.`;
/** Stacked expert tensor name used during training (split into HF names on save). */
export const stackedExpertName = (l: number, w: 'w1' | 'w2' | 'w3'): string =>
  `${layerPrefix(l)}block_sparse_moe.experts.${w}`;

/** Parameter shapes, HF names (out, in) for matrices; experts stacked. */
export function parameterShapes(s: LmShape): [string, number[]][] {
  const d = s.hidden;
  const hd = headDim(s);
  const out: [string, number[]][] = [[EMBED, [s.vocab, d]]];
  for (let l = 0; l < s.layers; l++) {
    const p = layerPrefix(l);
    out.push(
      [`${p}input_layernorm.weight`, [d]],
      [`${p}self_attn.q_proj.weight`, [s.heads * hd, d]],
      [`${p}self_attn.k_proj.weight`, [s.kvHeads * hd, d]],
      [`${p}self_attn.v_proj.weight`, [s.kvHeads * hd, d]],
      [`${p}self_attn.o_proj.weight`, [d, s.heads * hd]],
      [`${p}post_attention_layernorm.weight`, [d]],
      [`${p}block_sparse_moe.gate.weight`, [s.experts, d]],
      [stackedExpertName(l, 'w1'), [s.experts, s.intermediate, d]],
      [stackedExpertName(l, 'w3'), [s.experts, s.intermediate, d]],
      [stackedExpertName(l, 'w2'), [s.experts, d, s.intermediate]],
    );
  }
  out.push([FINAL_NORM, [d]], [LM_HEAD, [s.vocab, d]]);
  return out;
}

/** Seeded initial values (plain TS, identical on every device). */
export function initialValues(s: LmShape, seed: number): Map<string, Float32Array> {
  const normal = normalGenerator(seed);
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of parameterShapes(s)) {
    const count = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape[shape.length - 1]!;
    let std = 1 / Math.sqrt(fanIn);
    if (name === EMBED) std = 1;
    // Residual-branch outputs start small (GPT-2 style), so depth does not blow up the stream.
    if (name.endsWith('o_proj.weight') || name.endsWith('experts.w2'))
      std /= Math.sqrt(2 * s.layers);
    const data = name.endsWith('norm.weight')
      ? new Float32Array(count).fill(1)
      : Float32Array.from({ length: count }, () => std * normal());
    values.set(name, data);
  }
  return values;
}

export const toParams = (s: LmShape, values: Map<string, Float32Array>): Params =>
  paramsFromValues(parameterShapes(s), values, 'MoE LM');

/** cos and sin tables [T, hd] (frequencies repeated over both halves, as HF) and rotate-half. */
export function ropeTables(s: LmShape): {
  cos: Float32Array<ArrayBuffer>;
  sin: Float32Array<ArrayBuffer>;
  rotate: Float32Array<ArrayBuffer>;
} {
  const hd = headDim(s);
  const half = hd / 2;
  const cos = new Float32Array(s.context * hd);
  const sin = new Float32Array(s.context * hd);
  for (let t = 0; t < s.context; t++) {
    for (let i = 0; i < hd; i++) {
      const freq = 1 / s.ropeTheta ** ((2 * (i % half)) / hd);
      cos[t * hd + i] = Math.cos(t * freq);
      sin[t * hd + i] = Math.sin(t * freq);
    }
  }
  // rotate_half(x) = cat(-x[half:], x[:half]) written as x @ R.
  const rotate = new Float32Array(hd * hd);
  for (let i = 0; i < half; i++) {
    rotate[(i + half) * hd + i] = -1;
    rotate[i * hd + i + half] = 1;
  }
  return { cos, sin, rotate };
}

export interface RopeArrays {
  cos: jax.Array;
  sin: jax.Array;
  rotate: jax.Array;
}

export function ropeArrays(s: LmShape, length: number): RopeArrays {
  const hd = headDim(s);
  const t = ropeTables(s);
  return {
    cos: np.array(t.cos.slice(0, length * hd)).reshape([length, 1, hd]),
    sin: np.array(t.sin.slice(0, length * hd)).reshape([length, 1, hd]),
    rotate: np.array(t.rotate).reshape([hd, hd]),
  };
}

function rope(x: jax.Array, r: RopeArrays): jax.Array {
  return x.ref.mul(r.cos.ref).add(np.matmul(x, r.rotate.ref).mul(r.sin.ref));
}

/** Router output of one MoE layer: top-k renormalised weights [N, E] and the balance loss. */
function route(
  h: jax.Array,
  gate: jax.Array,
  s: LmShape,
): { weights: jax.Array; balance: jax.Array; mask: jax.Array } {
  const n = h.shape[0]!;
  const probs = jax.nn.softmax(linear(h, gate), -1);
  const fixed = jax.lax.stopGradient(probs.ref);
  // Rank of each expert among the token's experts (ties go to the lower index, as torch.topk).
  const others = fixed.ref.reshape([n, 1, s.experts]);
  const mine = fixed.reshape([n, s.experts, 1]);
  const lowerIndex = np
    .array(
      Float32Array.from({ length: s.experts * s.experts }, (_, i) =>
        i % s.experts < Math.floor(i / s.experts) ? 1 : 0,
      ),
    )
    .reshape([1, s.experts, s.experts]);
  const beats = others.ref
    .greater(mine.ref)
    .astype(np.float32)
    .add(others.equal(mine).astype(np.float32).mul(lowerIndex));
  const mask = np.sum(beats, -1).less(s.topK).astype(np.float32);
  const picked = probs.ref.mul(mask.ref);
  const weights = picked.ref.div(np.sum(picked, -1, { keepdims: true }));
  // Switch-transformer balance loss: E * sum_e (fraction routed to e) * (mean probability of e).
  const fraction = np.mean(mask.ref, 0).div(s.topK);
  const balance = np.sum(fraction.mul(np.mean(probs, 0))).mul(s.experts);
  return { weights, balance, mask };
}

function experts(h: jax.Array, weights: jax.Array, p: Params, l: number): jax.Array {
  const w1 = p[stackedExpertName(l, 'w1')]!;
  const w3 = p[stackedExpertName(l, 'w3')]!;
  const w2 = p[stackedExpertName(l, 'w2')]!;
  const a = np.einsum('nd,efd->enf', h.ref, w1.ref);
  const b = np.einsum('nd,efd->enf', h, w3.ref);
  const y = np.einsum('enf,edf->end', jax.nn.silu(a).mul(b), w2.ref);
  return np.einsum('ne,end->nd', weights, y);
}

export interface ForwardResult {
  logits: jax.Array;
  /** Mean balance loss over layers. */
  balance: jax.Array;
  /** Per layer, the router's top-k mask [B*T, E] (only when asked for). */
  masks: jax.Array[];
}

/**
 * Forward pass over tokens [B, T] (int32). Does not consume params (it takes `.ref`s), so one
 * params record serves many calls; consumes tokens and the rope tables.
 */
export function forward(
  p: Params,
  tokens: jax.Array,
  s: LmShape,
  r: RopeArrays,
  keepMasks = false,
): ForwardResult {
  const [b, t] = tokens.shape as [number, number];
  const hd = headDim(s);
  const n = b * t;
  // One-hot matmul, not take: take's gradient is a scatter, which jax-js cannot jit.
  const oneHot = jax.nn.oneHot(tokens.reshape([n]), s.vocab);
  let x = np.matmul(oneHot, p[EMBED]!.ref).reshape([b, t, s.hidden]);
  let balance: jax.Array = np.array(0);
  const masks: jax.Array[] = [];
  for (let l = 0; l < s.layers; l++) {
    const pre = layerPrefix(l);
    const w = (name: string): jax.Array => p[pre + name]!.ref;
    const h = rmsNorm(x.ref, w('input_layernorm.weight'), s.rmsEps);
    const q = rope(linear(h.ref, w('self_attn.q_proj.weight')).reshape([b, t, s.heads, hd]), r);
    const k = rope(linear(h.ref, w('self_attn.k_proj.weight')).reshape([b, t, s.kvHeads, hd]), r);
    const v = linear(h, w('self_attn.v_proj.weight')).reshape([b, t, s.kvHeads, hd]);
    const attn = jax.nn.dotProductAttention(q, k, v, { isCausal: true });
    x = x.add(linear(attn.reshape([b, t, s.heads * hd]), w('self_attn.o_proj.weight')));
    const m = rmsNorm(x.ref, w('post_attention_layernorm.weight'), s.rmsEps).reshape([n, s.hidden]);
    const routed = route(m.ref, w('block_sparse_moe.gate.weight'), s);
    if (keepMasks) masks.push(routed.mask);
    else routed.mask.dispose();
    balance = balance.add(routed.balance);
    x = x.add(experts(m, routed.weights, p, l).reshape([b, t, s.hidden]));
  }
  r.cos.dispose();
  r.sin.dispose();
  r.rotate.dispose();
  const logits = linear(rmsNorm(x, p[FINAL_NORM]!.ref, s.rmsEps), p[LM_HEAD]!.ref);
  return { logits, balance: balance.div(s.layers), masks };
}

/** Mean next-token cross-entropy (nats) of logits [B, T, V] against targets [B, T]. */
export function crossEntropy(logits: jax.Array, targets: jax.Array, vocab: number): jax.Array {
  const logp = jax.nn.logSoftmax(logits, -1);
  return np.mean(np.sum(logp.mul(jax.nn.oneHot(targets, vocab)), -1)).neg();
}
