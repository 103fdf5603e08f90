/**
 * Saves a trained jax-js MoE language model as a Mixtral checkpoint in the Hugging Face layout
 * (MixtralForCausalLM config, per-expert w1/w2/w3 tensors, a byte-level tokenizer whose ids are the
 * UTF-8 bytes), so the engine loads it exactly like a downloaded model.
 */
import type { TensorToWrite } from '../../io/safetensors.ts';
import { writeModelFolder } from '../modelFolder.ts';
import { expertNames } from '../tensorNames.ts';
import { byteLevelTokenizerJson, TINY_SPECIAL_TOKENS } from '../tokenizer.ts';
import { type LmShape, parameterShapes, stackedExpertName } from './lmModel.ts';
import { parseModelConfig } from '../config.ts';

/** Byte tokens 0..255, then <|endoftext|> (the document separator), <|im_start|>, <|im_end|>. */
export const LM_VOCAB = 256 + TINY_SPECIAL_TOKENS.length;
export const DOCUMENT_SEPARATOR = 256;

export function lmConfig(s: LmShape): Record<string, unknown> {
  return {
    model_type: 'mixtral',
    architectures: ['MixtralForCausalLM'],
    hidden_size: s.hidden,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    vocab_size: s.vocab,
    rms_norm_eps: s.rmsEps,
    rope_theta: s.ropeTheta,
    max_position_embeddings: Math.max(512, s.context),
    tie_word_embeddings: false,
    num_experts_per_tok: s.topK,
    num_local_experts: s.experts,
    intermediate_size: s.intermediate,
    sliding_window: null,
    torch_dtype: 'float32',
    bos_token_id: null,
    eos_token_id: DOCUMENT_SEPARATOR,
  };
}

/** HF tensors (F32) from training values: stacked experts split into experts.{e}.w{1,2,3}. */
export function toHfTensors(
  s: LmShape,
  values: Map<string, Float32Array>,
): [string, TensorToWrite][] {
  const spec = parseModelConfig(lmConfig(s));
  const out: [string, TensorToWrite][] = [];
  for (const [name, shape] of parameterShapes(s)) {
    const data = values.get(name);
    if (!data) throw new Error(`missing parameter ${name}`);
    const layer = /^model\.layers\.(\d+)\.block_sparse_moe\.experts\.(w[123])$/.exec(name);
    if (!layer) {
      out.push([name, { dtype: 'F32', shape, data }]);
      continue;
    }
    const l = Number(layer[1]);
    const w = layer[2] as 'w1' | 'w2' | 'w3';
    const per = shape[1]! * shape[2]!;
    for (let e = 0; e < s.experts; e++) {
      const names = expertNames(spec, l, e);
      const hfName = { w1: names.gate, w3: names.up, w2: names.down }[w];
      if (stackedExpertName(l, w) !== name) throw new Error(`unexpected expert tensor ${name}`);
      out.push([
        hfName,
        { dtype: 'F32', shape: [shape[1]!, shape[2]!], data: data.slice(e * per, (e + 1) * per) },
      ]);
    }
  }
  return out;
}

export async function writeLmModel(
  out: string,
  s: LmShape,
  values: Map<string, Float32Array>,
): Promise<void> {
  await writeModelFolder(out, {
    config: lmConfig(s),
    tensors: toHfTensors(s, values),
    shards: 1,
    tokenizerJson: byteLevelTokenizerJson([]).json,
    eosTokenId: DOCUMENT_SEPARATOR,
  });
}
