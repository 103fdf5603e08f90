/**
 * `moe make-tiny`: a small random MoE model in the exact Hugging Face layout of one family
 * (config.json, safetensors shards with an index, tokenizer.json, tokenizer_config.json with a
 * ChatML template, generation_config.json). Tests load these through the same loader as real
 * checkpoints. Qwen3's tiny model makes layer 0 dense (`mlp_only_layers`), so the dense-layer path
 * (DeepSeek's layout later) is exercised too. Router weights are drawn larger than the rest so
 * routing is decisive, not a coin toss between near-equal logits.
 */
import { f32ToBf16, f32ToF16 } from '../io/halfFloat.ts';
import type { TensorToWrite } from '../io/safetensors.ts';
import { normalGenerator } from '../spectral/random.ts';
import { type MoeArch, parseModelConfig } from './config.ts';
import { expectedTensors } from './tensorNames.ts';
import { writeModelFolder } from './modelFolder.ts';
import { byteLevelTokenizerJson } from './tokenizer.ts';

export type TinyDtype = 'BF16' | 'F16' | 'F32';

export interface TinyOptions {
  arch: MoeArch;
  out: string;
  seed?: number;
  dtype?: TinyDtype;
  /** Number of safetensors shards (> 1 writes model.safetensors.index.json). */
  shards?: number;
  layers?: number;
  hidden?: number;
  experts?: number;
  topK?: number;
}

/** The config.json of a tiny model of `arch`. */
export function tinyConfig(options: TinyOptions, vocab: number): Record<string, unknown> {
  const hidden = options.hidden ?? 64;
  const heads = 4;
  const common = {
    model_type: options.arch,
    architectures: [
      {
        mixtral: 'MixtralForCausalLM',
        qwen2_moe: 'Qwen2MoeForCausalLM',
        qwen3_moe: 'Qwen3MoeForCausalLM',
        olmoe: 'OlmoeForCausalLM',
      }[options.arch],
    ],
    hidden_size: hidden,
    num_hidden_layers: options.layers ?? 3,
    num_attention_heads: heads,
    num_key_value_heads: 2,
    vocab_size: vocab,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: 512,
    tie_word_embeddings: false,
    num_experts_per_tok: options.topK ?? 2,
    torch_dtype: { BF16: 'bfloat16', F16: 'float16', F32: 'float32' }[options.dtype ?? 'BF16'],
    bos_token_id: null,
    eos_token_id: vocab - 1,
  };
  const experts = options.experts ?? 8;
  switch (options.arch) {
    case 'mixtral':
      return { ...common, num_local_experts: experts, intermediate_size: 96, sliding_window: null };
    case 'olmoe':
      return {
        ...common,
        num_experts: experts,
        intermediate_size: 96,
        norm_topk_prob: false,
        clip_qkv: null,
      };
    case 'qwen2_moe':
      return {
        ...common,
        num_experts: experts,
        moe_intermediate_size: 48,
        intermediate_size: 128,
        shared_expert_intermediate_size: 128,
        norm_topk_prob: false,
        decoder_sparse_step: 1,
        mlp_only_layers: [],
      };
    case 'qwen3_moe':
      return {
        ...common,
        head_dim: 24,
        num_experts: experts,
        moe_intermediate_size: 48,
        intermediate_size: 128,
        norm_topk_prob: true,
        decoder_sparse_step: 1,
        mlp_only_layers: [0],
      };
  }
}

function encode(values: Float32Array, dtype: TinyDtype): ArrayBufferView {
  if (dtype === 'F32') return values;
  return dtype === 'BF16' ? f32ToBf16(values) : f32ToF16(values);
}

/** Writes the tiny model folder; returns its config. */
export async function makeTinyModel(options: TinyOptions): Promise<Record<string, unknown>> {
  const dtype = options.dtype ?? 'BF16';
  const { json: tokenizerJson, size: tokenizerSize } = byteLevelTokenizerJson();
  const config = tinyConfig(options, tokenizerSize);
  const spec = parseModelConfig(config);
  const normal = normalGenerator(options.seed ?? 0);
  const tensors: [string, TensorToWrite][] = [];
  for (const [name, shape] of expectedTensors(spec)) {
    const count = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 2 ? shape[1]! : 1;
    let draw: () => number;
    if (name.endsWith('norm.weight')) draw = () => 1 + 0.1 * normal();
    else if (name.endsWith('.bias')) draw = () => 0.1 * normal();
    else if (name.endsWith('embed_tokens.weight')) draw = () => normal();
    else if (name.endsWith('gate.weight')) draw = () => (3 / Math.sqrt(fanIn)) * normal();
    else draw = () => normal() / Math.sqrt(fanIn);
    const values = Float32Array.from({ length: count }, draw);
    tensors.push([name, { dtype, shape, data: encode(values, dtype) }]);
  }
  await writeModelFolder(options.out, {
    config,
    tensors,
    shards: options.shards ?? 1,
    tokenizerJson,
    eosTokenId: tokenizerSize - 1,
  });
  return config;
}
