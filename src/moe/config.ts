/**
 * A Hugging Face MoE `config.json` turned into one family-independent `MoeSpec`.
 *
 * Every engine (the plain-TS reference and the WGSL engine) reads only the spec, so family quirks
 * live here and in `tensorNames.ts`: router normalisation (Mixtral and Qwen3 renormalise the top-k
 * probabilities; Qwen1.5/2-MoE and OLMoE follow `norm_topk_prob`, false in their releases), the
 * Qwen2-MoE shared expert with its sigmoid gate, Qwen2's q/k/v biases, Qwen3's per-head q/k RMSNorm
 * and OLMoE's q/k RMSNorm over the whole projection. Layers are listed one by one as `moe` or
 * `dense`, which is where DeepSeek-MoE's dense first layer(s) will fit.
 */
import { z } from 'zod';

export const SUPPORTED_ARCHS = ['mixtral', 'qwen2_moe', 'qwen3_moe', 'olmoe'] as const;
export type MoeArch = (typeof SUPPORTED_ARCHS)[number];

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

export interface RopeSpec {
  theta: number;
  /** HF `rope_scaling`: none, `linear` (positions divided by factor) or `llama3` (band-wise). */
  scaling:
    | { type: 'none' }
    | { type: 'linear'; factor: number }
    | {
        type: 'llama3';
        factor: number;
        lowFreqFactor: number;
        highFreqFactor: number;
        originalMaxPositions: number;
      };
}

export interface MoeSpec {
  arch: MoeArch;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  rmsEps: number;
  rope: RopeSpec;
  maxPositions: number;
  tieEmbeddings: boolean;
  /** Bias on q, k and v projections (Qwen2-MoE). */
  qkvBias: boolean;
  /** RMSNorm of q and k: per head (Qwen3) over the whole projection (OLMoE) or none. */
  qkNorm: 'none' | 'per-head' | 'whole';
  numExperts: number;
  topK: number;
  /** Renormalise the top-k router probabilities to sum to one. */
  normTopK: boolean;
  expertIntermediate: number;
  /** One shared expert per MoE layer, added with a sigmoid gate (Qwen2-MoE), or none. */
  sharedExpert: { intermediate: number } | null;
  /** Intermediate size of dense MLP layers (Qwen's `mlp_only_layers`). */
  denseIntermediate: number;
  layerKinds: ('moe' | 'dense')[];
  /** Attention window (Mixtral's `sliding_window`), or null for full attention. */
  slidingWindow: number | null;
}

const positive = z.number().int().positive();
const RopeScaling = z
  .object({
    type: z.string().optional(),
    rope_type: z.string().optional(),
    factor: z.number().positive().optional(),
    low_freq_factor: z.number().optional(),
    high_freq_factor: z.number().optional(),
    original_max_position_embeddings: z.number().optional(),
  })
  .nullish();

const CommonConfig = z.object({
  model_type: z.string(),
  hidden_size: positive,
  num_hidden_layers: positive,
  num_attention_heads: positive,
  num_key_value_heads: positive.optional(),
  head_dim: positive.nullish(),
  vocab_size: positive,
  rms_norm_eps: z.number().positive(),
  rope_theta: z.number().positive().default(10000),
  rope_scaling: RopeScaling,
  max_position_embeddings: positive.default(4096),
  tie_word_embeddings: z.boolean().default(false),
  num_experts_per_tok: positive,
  sliding_window: positive.nullish(),
  use_sliding_window: z.boolean().optional(),
});

const MixtralConfig = CommonConfig.extend({
  num_local_experts: positive,
  intermediate_size: positive,
});
const QwenMoeConfig = CommonConfig.extend({
  num_experts: positive,
  moe_intermediate_size: positive,
  intermediate_size: positive.optional(),
  norm_topk_prob: z.boolean(),
  decoder_sparse_step: positive.default(1),
  mlp_only_layers: z.array(z.number().int().nonnegative()).default([]),
  shared_expert_intermediate_size: z.number().int().nonnegative().optional(),
});
const OlmoeConfig = CommonConfig.extend({
  num_experts: positive,
  intermediate_size: positive,
  norm_topk_prob: z.boolean().default(false),
  clip_qkv: z.number().nullish(),
});

function parseWith<S extends z.ZodType>(schema: S, raw: unknown, arch: string): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ModelConfigError(
    `config.json (${arch}) is missing or has invalid fields:\n${lines.join('\n')}`,
  );
}

function ropeSpec(theta: number, raw: z.infer<typeof RopeScaling>): RopeSpec {
  const type = raw?.rope_type ?? raw?.type ?? 'default';
  if (!raw || type === 'default') return { theta, scaling: { type: 'none' } };
  const factor = raw.factor;
  if (factor === undefined) throw new ModelConfigError(`rope_scaling '${type}' needs a factor`);
  if (type === 'linear') return { theta, scaling: { type: 'linear', factor } };
  if (type === 'llama3') {
    const { low_freq_factor, high_freq_factor, original_max_position_embeddings } = raw;
    if (!low_freq_factor || !high_freq_factor || !original_max_position_embeddings) {
      throw new ModelConfigError(
        "rope_scaling 'llama3' needs low_freq_factor, high_freq_factor and original_max_position_embeddings",
      );
    }
    return {
      theta,
      scaling: {
        type: 'llama3',
        factor,
        lowFreqFactor: low_freq_factor,
        highFreqFactor: high_freq_factor,
        originalMaxPositions: original_max_position_embeddings,
      },
    };
  }
  throw new ModelConfigError(
    `rope_scaling type '${type}' is not supported: driftflow supports none (default), linear and llama3`,
  );
}

/** Parses a config.json object; unsupported architectures and missing fields are clear errors. */
export function parseModelConfig(raw: unknown): MoeSpec {
  if (typeof raw !== 'object' || raw === null) {
    throw new ModelConfigError('config.json is not a JSON object');
  }
  const modelType = (raw as { model_type?: unknown }).model_type;
  if (!SUPPORTED_ARCHS.includes(modelType as MoeArch)) {
    throw new ModelConfigError(
      `model_type ${JSON.stringify(modelType)} is not supported: driftflow runs ${SUPPORTED_ARCHS.join(', ')}`,
    );
  }
  const arch = modelType as MoeArch;
  const c = parseWith(CommonConfig, raw, arch);
  const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (!Number.isInteger(headDim) || c.num_attention_heads % kvHeads !== 0) {
    throw new ModelConfigError(
      `attention shape is inconsistent: hidden ${c.hidden_size}, heads ${c.num_attention_heads}, kv heads ${kvHeads}`,
    );
  }
  const base = {
    arch,
    hidden: c.hidden_size,
    layers: c.num_hidden_layers,
    heads: c.num_attention_heads,
    kvHeads,
    headDim,
    vocab: c.vocab_size,
    rmsEps: c.rms_norm_eps,
    rope: ropeSpec(c.rope_theta, c.rope_scaling),
    maxPositions: c.max_position_embeddings,
    tieEmbeddings: c.tie_word_embeddings,
    topK: c.num_experts_per_tok,
    slidingWindow: arch === 'mixtral' || c.use_sliding_window ? (c.sliding_window ?? null) : null,
  };
  const allMoe = (): ('moe' | 'dense')[] => Array<'moe'>(c.num_hidden_layers).fill('moe');
  let spec: MoeSpec;
  if (arch === 'mixtral') {
    const m = parseWith(MixtralConfig, raw, arch);
    spec = {
      ...base,
      qkvBias: false,
      qkNorm: 'none',
      numExperts: m.num_local_experts,
      normTopK: true,
      expertIntermediate: m.intermediate_size,
      sharedExpert: null,
      denseIntermediate: m.intermediate_size,
      layerKinds: allMoe(),
    };
  } else if (arch === 'olmoe') {
    const o = parseWith(OlmoeConfig, raw, arch);
    if (o.clip_qkv != null) {
      throw new ModelConfigError('OLMoE with clip_qkv is not supported (set it to null)');
    }
    spec = {
      ...base,
      qkvBias: false,
      qkNorm: 'whole',
      numExperts: o.num_experts,
      normTopK: o.norm_topk_prob,
      expertIntermediate: o.intermediate_size,
      sharedExpert: null,
      denseIntermediate: o.intermediate_size,
      layerKinds: allMoe(),
    };
  } else {
    const q = parseWith(QwenMoeConfig, raw, arch);
    const layerKinds = Array.from({ length: q.num_hidden_layers }, (_, l) =>
      !q.mlp_only_layers.includes(l) && (l + 1) % q.decoder_sparse_step === 0 ? 'moe' : 'dense',
    ) as ('moe' | 'dense')[];
    const shared = q.shared_expert_intermediate_size ?? 0;
    if (arch === 'qwen2_moe' && shared === 0) {
      throw new ModelConfigError('qwen2_moe needs shared_expert_intermediate_size > 0');
    }
    if (layerKinds.includes('dense') && !q.intermediate_size) {
      throw new ModelConfigError('dense (mlp_only) layers need intermediate_size');
    }
    spec = {
      ...base,
      qkvBias: arch === 'qwen2_moe',
      qkNorm: arch === 'qwen3_moe' ? 'per-head' : 'none',
      numExperts: q.num_experts,
      normTopK: q.norm_topk_prob,
      expertIntermediate: q.moe_intermediate_size,
      sharedExpert: arch === 'qwen2_moe' ? { intermediate: shared } : null,
      denseIntermediate: q.intermediate_size ?? q.moe_intermediate_size,
      layerKinds,
    };
  }
  if (spec.topK > spec.numExperts) {
    throw new ModelConfigError(
      `num_experts_per_tok ${spec.topK} exceeds the number of experts ${spec.numExperts}`,
    );
  }
  return spec;
}

/** RoPE inverse frequencies (one per rotated pair), with the config's scaling applied. */
export function ropeInverseFrequencies(rope: RopeSpec, headDim: number): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    let invFreq = 1 / rope.theta ** ((2 * i) / headDim);
    const s = rope.scaling;
    if (s.type === 'linear') invFreq /= s.factor;
    if (s.type === 'llama3') {
      const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
      const highWavelen = s.originalMaxPositions / s.highFreqFactor;
      const wavelen = (2 * Math.PI) / invFreq;
      if (wavelen > lowWavelen) invFreq /= s.factor;
      else if (wavelen >= highWavelen) {
        const smooth =
          (s.originalMaxPositions / wavelen - s.lowFreqFactor) /
          (s.highFreqFactor - s.lowFreqFactor);
        invFreq = (1 - smooth) * (invFreq / s.factor) + smooth * invFreq;
      }
    }
    out[i] = invFreq;
  }
  return out;
}

/** Bytes of one routed expert's three matrices held as f16. */
export function expertBytes(spec: MoeSpec): number {
  return 3 * spec.hidden * spec.expertIntermediate * 2;
}
