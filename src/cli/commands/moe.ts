/**
 * `driftflow moe ...`: Mixture-of-Experts inference on Hugging Face checkpoints.
 *   make-tiny  writes a small random model of a family in the exact HF layout (for tests)
 *   generate   completes prompts (text, chat or token ids) with an offloading policy
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { deviceLabel, type DevicePreference } from '../../runtime/device.ts';
import { SUPPORTED_ARCHS } from '../../moe/config.ts';
import { parseBytes, POLICIES } from '../../moe/expertCache.ts';
import { generateBatch } from '../../moe/generate.ts';
import { openModel } from '../../moe/open.ts';
import { makeTinyModel } from '../../moe/tiny.ts';
import { deviceOption, jsonFlag, parseOptions, positiveInt, UsageError } from '../options.ts';
import { createProgress, printJson } from '../output.ts';

const TinyOptions = z.object({
  arch: z.enum(SUPPORTED_ARCHS),
  out: z.string().min(1),
  seed: z.coerce.number().int().nonnegative().default(0),
  dtype: z.enum(['BF16', 'F16', 'F32']).default('BF16'),
  shards: positiveInt.default(1),
  layers: positiveInt.optional(),
  experts: positiveInt.optional(),
});

const GenerateOptions = z.object({
  model: z.string().min(1),
  prompt: z.array(z.string()).optional(),
  promptIds: z.array(z.string()).optional(),
  chat: z.boolean().default(false),
  maxTokens: z.coerce.number().int().nonnegative().default(32),
  policy: z.enum(POLICIES).default('all-gpu'),
  gpuExpertsPerLayer: positiveInt.optional(),
  gpuExpertBudget: z.string().optional(),
  maxContext: positiveInt.default(1024),
  temperature: z.coerce.number().nonnegative().default(0),
  topK: z.coerce.number().int().nonnegative().default(0),
  topP: z.coerce.number().gt(0).lte(1).default(1),
  seed: z.coerce.number().int().nonnegative().default(0),
  device: deviceOption,
  json: jsonFlag,
});

function parseIds(text: string): number[] {
  const ids = text.split(',').map((s) => Number(s.trim()));
  if (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id < 0)) {
    throw new UsageError(`--prompt-ids '${text}' must be comma-separated token ids, e.g. 3,17,42`);
  }
  return ids;
}

export function register(program: Command): void {
  const moe = program
    .command('moe')
    .description('Mixture-of-Experts inference with expert offloading');
  moe
    .command('make-tiny')
    .description('write a small random MoE model in the exact Hugging Face layout')
    .requiredOption('--arch <arch>', SUPPORTED_ARCHS.join(' | '))
    .requiredOption('--out <dir>', 'model folder to write')
    .option('--seed <n>', 'random seed', '0')
    .option('--dtype <dtype>', 'BF16 | F16 | F32', 'BF16')
    .option('--shards <n>', 'safetensors shards (> 1 writes an index)', '1')
    .option('--layers <n>', 'decoder layers')
    .option('--experts <n>', 'routed experts per layer')
    .action(async (raw) => {
      const o = parseOptions(TinyOptions, raw);
      const config = await makeTinyModel(o);
      console.error(
        `wrote a tiny ${o.arch} model (${JSON.stringify(config.architectures)}) to ${o.out}`,
      );
    });
  moe
    .command('generate')
    .description('complete prompts with a Hugging Face MoE model')
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .option('--prompt <text...>', 'prompt text (several: one batch)')
    .option('--prompt-ids <ids...>', 'prompt token ids, e.g. 3,17,42 (several: one batch)')
    .option('--chat', "wrap each prompt as a user message with the model's chat template")
    .option('--max-tokens <n>', 'tokens to generate per prompt', '32')
    .option('--policy <policy>', POLICIES.join(' | '), 'all-gpu')
    .option('--gpu-experts-per-layer <n>', 'GPU expert slots per MoE layer (lru, lookahead)')
    .option(
      '--gpu-expert-budget <bytes>',
      'GPU bytes for routed experts, e.g. 2GiB (lru, lookahead)',
    )
    .option('--max-context <n>', 'KV-cache positions per sequence', '1024')
    .option('--temperature <t>', '0 = greedy', '0')
    .option('--top-k <k>', '0 = off', '0')
    .option('--top-p <p>', '1 = off', '1')
    .option('--seed <n>', 'sampling seed', '0')
    .option('--device <device>', 'auto | webgpu | wasm', 'auto')
    .option('--json', 'print JSON (token ids, text, timing, cache counters)')
    .action(async (raw) => {
      const o = parseOptions(GenerateOptions, raw);
      if (!o.prompt && !o.promptIds) throw new UsageError('give --prompt or --prompt-ids');
      let progress: ReturnType<typeof createProgress> | undefined;
      const model = await openModel({
        model: o.model,
        device: o.device as DevicePreference,
        policy: o.policy,
        expertsPerLayer: o.gpuExpertsPerLayer,
        budgetBytes: o.gpuExpertBudget === undefined ? undefined : parseBytes(o.gpuExpertBudget),
        maxSequences: (o.prompt?.length ?? 0) + (o.promptIds?.length ?? 0),
        maxContext: o.maxContext,
        onLoad: (done, total) => {
          progress ??= createProgress('loading experts', total);
          progress.update(done);
        },
      });
      progress?.stop();
      const { engine, tokenizer } = model;
      const prompts = [
        ...(o.prompt ?? []).map((text) =>
          o.chat ? tokenizer.encodeChat([{ role: 'user', content: text }]) : tokenizer.encode(text),
        ),
        ...(o.promptIds ?? []).map(parseIds),
      ];
      const sampling = { temperature: o.temperature, topK: o.topK, topP: o.topP, seed: o.seed };
      const { results, timing } = await generateBatch(
        engine,
        prompts.map((prompt) => ({ prompt, maxTokens: o.maxTokens, sampling })),
        { eos: tokenizer.eosIds },
      );
      const counters = engine.counters();
      const output = {
        model: o.model,
        arch: engine.spec.arch,
        device: deviceLabel(model.device),
        policy: o.policy,
        results: results.map((r, i) => ({
          prompt_ids: prompts[i],
          token_ids: r.tokens,
          text: tokenizer.decode(r.tokens),
          finish_reason: r.finish,
        })),
        timing: {
          prefill_tokens_per_s: timing.prefillTokens / (timing.prefillMs / 1000),
          decode_tokens_per_s: timing.decodeTokens / (timing.decodeMs / 1000),
          ...timing,
        },
        cache: {
          hits: counters.expertHits,
          misses: counters.expertMisses,
          hit_ratio:
            counters.expertHits + counters.expertMisses > 0
              ? counters.expertHits / (counters.expertHits + counters.expertMisses)
              : null,
          bytes_moved: counters.bytesMoved,
        },
      };
      await engine.close();
      await model.checkpoint.close();
      if (o.json) printJson(output);
      else {
        for (const r of output.results) console.log(r.text);
        console.error(
          `${output.device}, ${o.policy}: prefill ${output.timing.prefill_tokens_per_s.toFixed(1)} tok/s, ` +
            `decode ${output.timing.decode_tokens_per_s.toFixed(1)} tok/s, hit ratio ${output.cache.hit_ratio?.toFixed(3) ?? 'n/a'}`,
        );
      }
    });
}
