/**
 * Hub tensor names and shapes per family, from a `MoeSpec`. The on-disk names differ
 * (`block_sparse_moe.experts.{e}.w1/w3/w2` + `block_sparse_moe.gate` in Mixtral, `mlp.experts.{e}.
 * {gate,up,down}_proj` + `mlp.gate` elsewhere); the engines only ask for roles (gate, up, down,
 * router), so the loader, the tiny-model writer and the shape checks share this one table.
 * Shapes are HF's `nn.Linear` layout: [out features, in features].
 */
import type { MoeSpec } from './config.ts';

export interface ExpertNames {
  gate: string;
  up: string;
  down: string;
}

export interface LayerNames {
  inputNorm: string;
  postAttentionNorm: string;
  q: string;
  k: string;
  v: string;
  o: string;
  qBias: string | null;
  kBias: string | null;
  vBias: string | null;
  qNorm: string | null;
  kNorm: string | null;
  /** MoE layers: the router [E, H]; dense layers: null. */
  router: string | null;
  /** Dense MLP (dense layers only). */
  dense: ExpertNames | null;
  shared: ExpertNames | null;
  sharedGate: string | null;
}

export function layerNames(spec: MoeSpec, layer: number): LayerNames {
  const p = `model.layers.${layer}.`;
  const moe = spec.layerKinds[layer] === 'moe';
  const mixtral = spec.arch === 'mixtral';
  const mlp = (prefix: string): ExpertNames => ({
    gate: `${prefix}gate_proj.weight`,
    up: `${prefix}up_proj.weight`,
    down: `${prefix}down_proj.weight`,
  });
  return {
    inputNorm: `${p}input_layernorm.weight`,
    postAttentionNorm: `${p}post_attention_layernorm.weight`,
    q: `${p}self_attn.q_proj.weight`,
    k: `${p}self_attn.k_proj.weight`,
    v: `${p}self_attn.v_proj.weight`,
    o: `${p}self_attn.o_proj.weight`,
    qBias: spec.qkvBias ? `${p}self_attn.q_proj.bias` : null,
    kBias: spec.qkvBias ? `${p}self_attn.k_proj.bias` : null,
    vBias: spec.qkvBias ? `${p}self_attn.v_proj.bias` : null,
    qNorm: spec.qkNorm === 'none' ? null : `${p}self_attn.q_norm.weight`,
    kNorm: spec.qkNorm === 'none' ? null : `${p}self_attn.k_norm.weight`,
    router: moe ? (mixtral ? `${p}block_sparse_moe.gate.weight` : `${p}mlp.gate.weight`) : null,
    dense: moe ? null : mlp(`${p}mlp.`),
    shared: moe && spec.sharedExpert ? mlp(`${p}mlp.shared_expert.`) : null,
    sharedGate: moe && spec.sharedExpert ? `${p}mlp.shared_expert_gate.weight` : null,
  };
}

export function expertNames(spec: MoeSpec, layer: number, expert: number): ExpertNames {
  const p = `model.layers.${layer}.`;
  if (spec.arch === 'mixtral') {
    const e = `${p}block_sparse_moe.experts.${expert}.`;
    return { gate: `${e}w1.weight`, up: `${e}w3.weight`, down: `${e}w2.weight` };
  }
  const e = `${p}mlp.experts.${expert}.`;
  return { gate: `${e}gate_proj.weight`, up: `${e}up_proj.weight`, down: `${e}down_proj.weight` };
}

export const EMBED = 'model.embed_tokens.weight';
export const FINAL_NORM = 'model.norm.weight';
export const LM_HEAD = 'lm_head.weight';

/** Every tensor the model needs with its expected shape (used to validate a checkpoint). */
export function expectedTensors(spec: MoeSpec): Map<string, number[]> {
  const { hidden: h, heads, kvHeads, headDim: d, vocab } = spec;
  const shapes = new Map<string, number[]>([
    [EMBED, [vocab, h]],
    [FINAL_NORM, [h]],
  ]);
  if (!spec.tieEmbeddings) shapes.set(LM_HEAD, [vocab, h]);
  const addMlp = (names: ExpertNames, inter: number): void => {
    shapes.set(names.gate, [inter, h]);
    shapes.set(names.up, [inter, h]);
    shapes.set(names.down, [h, inter]);
  };
  for (let l = 0; l < spec.layers; l++) {
    const n = layerNames(spec, l);
    shapes.set(n.inputNorm, [h]);
    shapes.set(n.postAttentionNorm, [h]);
    shapes.set(n.q, [heads * d, h]);
    shapes.set(n.k, [kvHeads * d, h]);
    shapes.set(n.v, [kvHeads * d, h]);
    shapes.set(n.o, [h, heads * d]);
    if (n.qBias) shapes.set(n.qBias, [heads * d]);
    if (n.kBias) shapes.set(n.kBias, [kvHeads * d]);
    if (n.vBias) shapes.set(n.vBias, [kvHeads * d]);
    const perHead = spec.qkNorm === 'per-head';
    if (n.qNorm) shapes.set(n.qNorm, [perHead ? d : heads * d]);
    if (n.kNorm) shapes.set(n.kNorm, [perHead ? d : kvHeads * d]);
    if (n.router) shapes.set(n.router, [spec.numExperts, h]);
    if (n.dense) addMlp(n.dense, spec.denseIntermediate);
    if (n.shared) addMlp(n.shared, spec.sharedExpert!.intermediate);
    if (n.sharedGate) shapes.set(n.sharedGate, [1, h]);
    if (spec.layerKinds[l] === 'moe') {
      for (let e = 0; e < spec.numExperts; e++) {
        addMlp(expertNames(spec, l, e), spec.expertIntermediate);
      }
    }
  }
  return shapes;
}
