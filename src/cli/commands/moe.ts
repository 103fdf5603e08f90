/**
 * `driftflow moe ...`: Mixture-of-Experts inference on Hugging Face checkpoints.
 *   make-tiny  writes a small random model of a family in the exact HF layout (for tests)
 *   generate   completes prompts (text, chat or token ids) with an offloading policy
 *   serve      an OpenAI-compatible HTTP server (continuous batching, SSE streaming)
 *   trace      records which experts every token chose at every MoE layer (HDF5)
 *   train-lm   trains driftflow's own MoE language model (moeTrain.ts)
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { deviceLabel, type DevicePreference } from '../../runtime/device.ts';
import { SUPPORTED_ARCHS } from '../../moe/config.ts';
import { parseBytes, POLICIES } from '../../moe/expertCache.ts';
import { generateBatch } from '../../moe/generate.ts';
import { openModel, type OpenModel } from '../../moe/open.ts';
import { ContinuousBatcher } from '../../moe/batcher.ts';
import { MoeServer } from '../../moe/serve/server.ts';
import { recordTrace, writeTrace } from '../../moe/trace.ts';
import { makeTinyModel } from '../../moe/tiny.ts';
import { deviceOption, jsonFlag, parseOptions, positiveInt, UsageError } from '../options.ts';
import { createProgress, printJson } from '../output.ts';
import { registerTrain } from './moeTrain.ts';

const TinyOptions = z.object({
  arch: z.enum(SUPPORTED_ARCHS),
  out: z.string().min(1),
  seed: z.coerce.number().int().nonnegative().default(0),
  dtype: z.enum(['BF16', 'F16', 'F32']).default('BF16'),
  shards: positiveInt.default(1),
  layers: positiveInt.optional(),
  experts: positiveInt.optional(),
});

/** Options every command that opens a model shares (engine, offloading policy, device). */
const engineSchema = {
  model: z.string().min(1),
  policy: z.enum(POLICIES).default('all-gpu'),
  gpuExpertsPerLayer: positiveInt.optional(),
  gpuExpertSlots: positiveInt.optional(),
  gpuExpertBudget: z.string().optional(),
  maxContext: positiveInt.default(1024),
  predictor: z.string().optional(),
  device: deviceOption,
};

function addEngineOptions(command: Command): Command {
  return command
    .requiredOption('--model <dir>', 'Hugging Face model folder')
    .option('--policy <policy>', POLICIES.join(' | '), 'all-gpu')
    .option(
      '--gpu-experts-per-layer <n>',
      'GPU expert slots per MoE layer (lru, lookahead, expertflow)',
    )
    .option(
      '--gpu-expert-slots <n>',
      'GPU expert slots in one pool shared by all MoE layers (lru, lookahead, expertflow)',
    )
    .option(
      '--gpu-expert-budget <bytes>',
      'GPU bytes for routed experts, e.g. 2GiB; below one expert per layer: a shared pool',
    )
    .option('--max-context <n>', 'KV-cache positions per sequence', '1024')
    .option('--predictor <file>', 'routing-path predictor for --policy expertflow')
    .option('--device <device>', 'auto | webgpu | wasm', 'auto');
}

async function openFor(
  o: z.infer<z.ZodObject<typeof engineSchema>>,
  maxSequences: number,
): Promise<OpenModel> {
  let progress: ReturnType<typeof createProgress> | undefined;
  const model = await openModel({
    model: o.model,
    device: o.device as DevicePreference,
    policy: o.policy,
    expertsPerLayer: o.gpuExpertsPerLayer,
    sharedSlots: o.gpuExpertSlots,
    budgetBytes: o.gpuExpertBudget === undefined ? undefined : parseBytes(o.gpuExpertBudget),
    maxSequences,
    maxContext: o.maxContext,
    predictor: o.predictor,
    onLoad: (done, total) => {
      progress ??= createProgress('loading experts', total);
      progress.update(done);
    },
  });
  progress?.stop();
  return model;
}

const GenerateOptions = z.object({
  ...engineSchema,
  prompt: z.array(z.string()).optional(),
  promptIds: z.array(z.string()).optional(),
  chat: z.boolean().default(false),
  maxTokens: z.coerce.number().int().nonnegative().default(32),
  temperature: z.coerce.number().nonnegative().default(0),
  topK: z.coerce.number().int().nonnegative().default(0),
  topP: z.coerce.number().gt(0).lte(1).default(1),
  seed: z.coerce.number().int().nonnegative().default(0),
  json: jsonFlag,
});

const TraceOptions = z.object({
  ...engineSchema,
  prompt: z.array(z.string()).optional(),
  prompts: z.string().optional(),
  domain: z.string().min(1).default('default'),
  maxTokens: positiveInt.default(32),
  batch: positiveInt.default(8),
  out: z.string().min(1),
});

/** Prompt file: one prompt per line, or JSON lines {"text": ..., "domain": ...}. */
async function readPromptFile(
  path: string,
  domain: string,
): Promise<{ text: string; domain: string; continuation?: string }[]> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UsageError(`--prompts ${path}: cannot read the file`);
  });
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, i) => {
      if (!line.trimStart().startsWith('{')) return { text: line, domain };
      let row: { text?: unknown; domain?: unknown; continuation?: unknown };
      try {
        row = JSON.parse(line) as typeof row;
      } catch {
        throw new UsageError(`--prompts ${path}: line ${i + 1} starts with '{' but is not JSON`);
      }
      if (typeof row.text !== 'string') {
        throw new UsageError(`--prompts ${path}: line ${i + 1} has no "text" string`);
      }
      if (row.continuation !== undefined && typeof row.continuation !== 'string') {
        throw new UsageError(`--prompts ${path}: line ${i + 1} has a non-string "continuation"`);
      }
      return {
        text: row.text,
        domain: typeof row.domain === 'string' ? row.domain : domain,
        ...(row.continuation === undefined ? {} : { continuation: row.continuation }),
      };
    });
}

const ServeOptions = z.object({
  ...engineSchema,
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  host: z.string().min(1).default('127.0.0.1'),
  servedModelName: z.string().min(1).optional(),
  maxBatch: positiveInt.default(8),
  maxQueue: z.coerce.number().int().nonnegative().default(64),
  maxTokensLimit: positiveInt.optional(),
  defaultMaxTokens: positiveInt.default(256),
  maxBody: z.string().default('1MiB'),
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
  registerTrain(moe);
  addEngineOptions(
    moe.command('generate').description('complete prompts with a Hugging Face MoE model'),
  )
    .option('--prompt <text...>', 'prompt text (several: one batch)')
    .option('--prompt-ids <ids...>', 'prompt token ids, e.g. 3,17,42 (several: one batch)')
    .option('--chat', "wrap each prompt as a user message with the model's chat template")
    .option('--max-tokens <n>', 'tokens to generate per prompt', '32')
    .option('--temperature <t>', '0 = greedy', '0')
    .option('--top-k <k>', '0 = off', '0')
    .option('--top-p <p>', '1 = off', '1')
    .option('--seed <n>', 'sampling seed', '0')
    .option('--json', 'print JSON (token ids, text, timing, cache counters)')
    .action(async (raw) => {
      const o = parseOptions(GenerateOptions, raw);
      if (!o.prompt && !o.promptIds) throw new UsageError('give --prompt or --prompt-ids');
      const model = await openFor(o, (o.prompt?.length ?? 0) + (o.promptIds?.length ?? 0));
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
      await model.close();
      if (o.json) printJson(output);
      else {
        for (const r of output.results) console.log(r.text);
        console.error(
          `${output.device}, ${o.policy}: prefill ${output.timing.prefill_tokens_per_s.toFixed(1)} tok/s, ` +
            `decode ${output.timing.decode_tokens_per_s.toFixed(1)} tok/s, hit ratio ${output.cache.hit_ratio?.toFixed(3) ?? 'n/a'}`,
        );
      }
    });
  addEngineOptions(
    moe
      .command('serve')
      .description('OpenAI-compatible server (/v1/completions, /v1/chat/completions)'),
  )
    .option('--port <n>', 'TCP port (0: any free port)', '8000')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--served-model-name <name>', "the 'model' clients send (default: the folder name)")
    .option('--max-batch <n>', 'sequences decoded together (KV-cache slots)', '8')
    .option('--max-queue <n>', 'requests waiting for a slot before answering 429', '64')
    .option(
      '--max-tokens-limit <n>',
      'largest max_tokens a request may ask (default: --max-context)',
    )
    .option('--default-max-tokens <n>', 'max_tokens when a request gives none', '256')
    .option('--max-body <bytes>', 'largest request body', '1MiB')
    .action(async (raw) => {
      const o = parseOptions(ServeOptions, raw);
      const model = await openFor(o, o.maxBatch);
      const { engine, tokenizer } = model;
      const batcher = new ContinuousBatcher(engine, {
        maxQueue: o.maxQueue,
        eos: tokenizer.eosIds,
      });
      const info = {
        modelName: o.servedModelName ?? basename(resolve(o.model)),
        arch: engine.spec.arch,
        device: deviceLabel(model.device),
        policy: o.policy,
      };
      const server = new MoeServer(batcher, tokenizer, info, {
        maxBodyBytes: parseBytes(o.maxBody),
        maxTokens: o.maxTokensLimit ?? o.maxContext,
        defaultMaxTokens: o.defaultMaxTokens,
      });
      const port = await server.listen(o.port, o.host);
      // One line on stdout with the address (scripts and tests read it); the rest on stderr.
      console.log(`listening on http://${o.host}:${port}`);
      console.error(
        `serving '${info.modelName}' (${info.arch}, ${info.device}, ${info.policy}, batch ${o.maxBatch}); SIGTERM drains and exits`,
      );
      await new Promise<void>((done) => process.once('SIGTERM', () => done()));
      console.error('draining: no new requests; waiting for running ones');
      await server.close();
      await model.close();
    });
  addEngineOptions(
    moe
      .command('trace')
      .description('record the experts every token chose at every MoE layer (HDF5)'),
  )
    .option('--prompt <text...>', 'prompt text')
    .option(
      '--prompts <file>',
      'one prompt per line, or JSON lines {"text", "domain", "continuation" (fed, not generated)}',
    )
    .option('--domain <label>', 'domain label for prompts without one', 'default')
    .option('--max-tokens <n>', 'greedy tokens to generate per prompt', '32')
    .option('--batch <n>', 'sequences per engine step', '8')
    .requiredOption('--out <file.h5>', 'trace file to write')
    .action(async (raw) => {
      const o = parseOptions(TraceOptions, raw);
      const inputs: { text: string; domain: string; continuation?: string }[] = [
        ...(o.prompt ?? []).map((text) => ({ text, domain: o.domain })),
        ...(o.prompts ? await readPromptFile(o.prompts, o.domain) : []),
      ];
      if (inputs.length === 0) throw new UsageError('give --prompt or --prompts');
      const model = await openFor(o, Math.min(o.batch, inputs.length));
      const { engine, tokenizer } = model;
      // A "continuation" is fed token by token instead of generated text (teacher forcing).
      const requests = inputs.map((input) => {
        const forced =
          input.continuation === undefined ? undefined : tokenizer.encode(input.continuation);
        return {
          prompt: tokenizer.encode(input.text),
          maxTokens: forced ? forced.length : o.maxTokens,
          domain: input.domain,
          ...(forced ? { forced } : {}),
        };
      });
      const progress = createProgress('tracing sequences', requests.length);
      const trace = await recordTrace(engine, basename(resolve(o.model)), requests, {
        eos: tokenizer.eosIds,
        onBatch: (done) => progress.update(done),
      });
      progress.stop();
      await writeTrace(o.out, trace);
      const tokens = trace.sequences.reduce((a, s) => a + s.tokens.length, 0);
      console.error(
        `wrote ${o.out}: ${trace.sequences.length} sequences, ${tokens} tokens, ${trace.moeLayers.length} MoE layers x top-${trace.topK} of ${trace.numExperts} experts`,
      );
      await model.close();
    });
}
