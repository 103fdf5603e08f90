/**
 * The OpenAI-compatible request bodies `moe serve` accepts and the response objects it returns
 * (`/v1/completions`, `/v1/chat/completions`, streamed or not). Parameters that would change the
 * output but are not implemented (n > 1, logprobs, penalties, tools) are refused with a 400 naming
 * them rather than silently ignored; harmless ones (user, metadata) are accepted.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { FinishReason } from '../batcher.ts';

const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish();

const sampling = {
  model: z.string().optional(),
  max_tokens: z.number().int().nonnegative().nullish(),
  max_completion_tokens: z.number().int().nonnegative().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().nonnegative().nullish(),
  seed: z.number().int().nullish(),
  stop,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  n: z.literal(1, { error: 'n > 1 is not supported: send separate requests' }).nullish(),
  logprobs: z
    .union([z.literal(false), z.null()], { error: 'logprobs are not supported' })
    .optional(),
  presence_penalty: z.literal(0, { error: 'presence_penalty is not supported' }).nullish(),
  frequency_penalty: z.literal(0, { error: 'frequency_penalty is not supported' }).nullish(),
  user: z.string().optional(),
};

export const CompletionRequest = z.object({
  ...sampling,
  prompt: z.union([
    z.string(),
    z.array(z.number().int().nonnegative()).min(1),
    z.array(z.string()).length(1),
  ]),
  echo: z.literal(false, { error: 'echo is not supported' }).nullish(),
  best_of: z.literal(1, { error: 'best_of > 1 is not supported' }).nullish(),
  suffix: z.null({ error: 'suffix is not supported' }).optional(),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

const textPart = z.object({ type: z.literal('text'), text: z.string() });
export const ChatRequest = z.object({
  ...sampling,
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'user', 'assistant', 'developer']),
        content: z.union([z.string(), z.array(textPart)]),
      }),
    )
    .min(1),
  tools: z.array(z.unknown()).max(0, { error: 'tools are not supported' }).nullish(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

/** Formats a zod failure as one line per problem, naming the field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

export function stopStrings(value: string | string[] | null | undefined): string[] {
  return value === null || value === undefined ? [] : typeof value === 'string' ? [value] : value;
}

export function responseId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('hex')}`;
}

/** OpenAI's finish reasons; a cancelled request has no client left to read it. */
export function finishReason(finish: FinishReason): 'stop' | 'length' {
  return finish === 'length' ? 'length' : 'stop';
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

interface Envelope {
  id: string;
  created: number;
  model: string;
}

export function completionBody(
  e: Envelope,
  text: string,
  finish: FinishReason,
  use: Usage,
): object {
  return {
    ...e,
    object: 'text_completion',
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason(finish) }],
    usage: use,
  };
}

export function completionChunk(e: Envelope, text: string, finish: FinishReason | null): object {
  return {
    ...e,
    object: 'text_completion',
    choices: [
      { index: 0, text, logprobs: null, finish_reason: finish ? finishReason(finish) : null },
    ],
  };
}

export function chatBody(e: Envelope, text: string, finish: FinishReason, use: Usage): object {
  return {
    ...e,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text },
        logprobs: null,
        finish_reason: finishReason(finish),
      },
    ],
    usage: use,
  };
}

export function chatChunk(
  e: Envelope,
  delta: { role?: 'assistant'; content?: string },
  finish: FinishReason | null,
): object {
  return {
    ...e,
    object: 'chat.completion.chunk',
    choices: [
      { index: 0, delta, logprobs: null, finish_reason: finish ? finishReason(finish) : null },
    ],
  };
}

/** The last chunk of a stream when `stream_options.include_usage` is set. */
export function usageChunk(e: Envelope, object: string, use: Usage): object {
  return { ...e, object, choices: [], usage: use };
}
