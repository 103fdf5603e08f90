/**
 * Writes a model folder in the Hugging Face layout (config.json, safetensors shards with an index
 * when there are several, tokenizer.json, tokenizer_config.json with a ChatML template,
 * generation_config.json): what `moe make-tiny` and `moe train-lm` produce, and what the engine's
 * loader reads like any downloaded checkpoint.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TensorToWrite, writeSafetensors } from '../io/safetensors.ts';
import { CHATML_TEMPLATE, TINY_SPECIAL_TOKENS } from './tokenizer.ts';

export interface ModelFolder {
  config: Record<string, unknown>;
  tensors: [string, TensorToWrite][];
  /** Number of safetensors shards (> 1 writes model.safetensors.index.json). */
  shards: number;
  tokenizerJson: object;
  eosTokenId: number;
}

export async function writeModelFolder(out: string, folder: ModelFolder): Promise<void> {
  await mkdir(out, { recursive: true });
  const shards = Math.max(1, folder.shards);
  const perShard = Math.ceil(folder.tensors.length / shards);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file =
      shards === 1
        ? 'model.safetensors'
        : `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = folder.tensors.slice(s * perShard, (s + 1) * perShard);
    for (const [name] of part) weightMap[name] = file;
    await writeSafetensors(join(out, file), Object.fromEntries(part), { format: 'pt' });
  }
  const writeJson = (name: string, value: unknown): Promise<void> =>
    writeFile(join(out, name), `${JSON.stringify(value, null, 2)}\n`);
  if (shards > 1)
    await writeJson('model.safetensors.index.json', { metadata: {}, weight_map: weightMap });
  await writeJson('config.json', folder.config);
  await writeJson('generation_config.json', { eos_token_id: folder.eosTokenId });
  await writeJson('tokenizer.json', folder.tokenizerJson);
  await writeJson('tokenizer_config.json', {
    model_max_length: folder.config.max_position_embeddings ?? 512,
    bos_token: null,
    eos_token: TINY_SPECIAL_TOKENS[2],
    pad_token: TINY_SPECIAL_TOKENS[0],
    chat_template: CHATML_TEMPLATE,
  });
}
