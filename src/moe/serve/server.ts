/**
 * `driftflow moe serve`: an OpenAI-compatible HTTP server over one MoE engine. Concurrent requests
 * share the engine through continuous batching; answers come whole or streamed as server-sent
 * events; every refusal is a 4xx JSON error in OpenAI's shape and the server keeps serving; a
 * client that disconnects frees its slot before the next engine step.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomInt } from 'node:crypto';
import type { z } from 'zod';
import {
  ContinuousBatcher,
  QueueFullError,
  ShuttingDownError,
  type BatchResult,
} from '../batcher.ts';
import { InvalidRequestError } from '../engine.ts';
import type { ModelTokenizer } from '../tokenizer.ts';
import { metricsText, type ServerCounters } from './metrics.ts';
import {
  ChatRequest,
  chatBody,
  chatChunk,
  CompletionRequest,
  completionBody,
  completionChunk,
  describeIssues,
  responseId,
  stopStrings,
  usage,
  usageChunk,
} from './openai.ts';
import { TextStream } from './textStream.ts';

export interface ServeLimits {
  /** Largest request body accepted (bytes). */
  maxBodyBytes: number;
  /** Largest max_tokens a request may ask for. */
  maxTokens: number;
  /** max_tokens when a request gives none. */
  defaultMaxTokens: number;
}

export interface ServeInfo {
  modelName: string;
  arch: string;
  device: string;
  policy: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

const badRequest = (message: string): HttpError =>
  new HttpError(400, message, 'invalid_request_error', 'invalid');

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = new HttpError(
    413,
    `the request body exceeds ${limit} bytes`,
    'invalid_request_error',
    'too_large',
  );
  if (declared > limit) throw tooLarge;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw badRequest(describeIssues(result.error));
  return result.data;
}

export class MoeServer {
  readonly http: Server;
  readonly counters: ServerCounters = { rejected: new Map() };

  constructor(
    readonly batcher: ContinuousBatcher,
    readonly tokenizer: ModelTokenizer,
    readonly info: ServeInfo,
    readonly limits: ServeLimits,
  ) {
    this.http = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => this.#fail(res, error));
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        const address = this.http.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops accepting connections, lets running requests finish, then resolves. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.batcher.close();
    this.http.closeIdleConnections();
    await closed;
  }

  #fail(res: ServerResponse, error: unknown): void {
    const known =
      error instanceof HttpError
        ? error
        : error instanceof QueueFullError
          ? new HttpError(429, error.message, 'rate_limit_error', 'queue_full')
          : error instanceof ShuttingDownError
            ? new HttpError(503, error.message, 'server_error', 'shutting_down')
            : error instanceof InvalidRequestError
              ? badRequest(error.message)
              : new HttpError(500, (error as Error).message, 'server_error', 'error');
    if (known.status < 500 || known.reason === 'shutting_down') {
      this.counters.rejected.set(known.reason, (this.counters.rejected.get(known.reason) ?? 0) + 1);
    } else console.error(`driftflow moe serve: ${(error as Error).stack ?? String(error)}`);
    const body = { error: { message: known.message, type: known.type, param: null, code: null } };
    if (res.headersSent) {
      // Mid-stream: report in the stream, then end it.
      if (!res.writableEnded) res.end(`data: ${JSON.stringify(body)}\n\n`);
      return;
    }
    if (known.status === 429) res.setHeader('retry-after', '1');
    if (known.reason === 'too_large') res.setHeader('connection', 'close');
    sendJson(res, known.status, body);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const routes: Record<string, { method: string; run: () => Promise<void> | void }> = {
      '/health': { method: 'GET', run: () => this.#health(res) },
      '/metrics': {
        method: 'GET',
        run: () => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(metricsText(this.batcher, this.counters));
        },
      },
      '/v1/models': { method: 'GET', run: () => this.#models(res) },
      '/v1/completions': { method: 'POST', run: () => this.#completion(req, res, 'text') },
      '/v1/chat/completions': { method: 'POST', run: () => this.#completion(req, res, 'chat') },
    };
    const route = routes[path];
    if (!route) {
      throw new HttpError(404, `no route ${path}`, 'invalid_request_error', 'not_found');
    }
    if (req.method !== route.method) {
      res.setHeader('allow', route.method);
      throw new HttpError(
        405,
        `${path} takes ${route.method}, not ${req.method}`,
        'invalid_request_error',
        'method',
      );
    }
    await route.run();
  }

  #health(res: ServerResponse): void {
    sendJson(res, 200, {
      status: 'ok',
      model: this.info.modelName,
      arch: this.info.arch,
      device: this.info.device,
      policy: this.info.policy,
      running: this.batcher.running,
      queued: this.batcher.queued,
    });
  }

  #models(res: ServerResponse): void {
    sendJson(res, 200, {
      object: 'list',
      data: [{ id: this.info.modelName, object: 'model', created: 0, owned_by: 'driftflow' }],
    });
  }

  /** Prompt ids, sampling and limits from either request kind. */
  #prepare(body: CompletionRequest | ChatRequest): {
    prompt: number[];
    maxTokens: number;
    stops: string[];
  } {
    if (body.model !== undefined && body.model !== this.info.modelName) {
      throw new HttpError(
        404,
        `model '${body.model}' is not served here; this server serves '${this.info.modelName}'`,
        'invalid_request_error',
        'model_not_found',
      );
    }
    let prompt: number[];
    if ('messages' in body) {
      const messages = body.messages.map((m) => ({
        role: m.role === 'developer' ? ('system' as const) : m.role,
        content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
      }));
      if (!this.tokenizer.hasChatTemplate) {
        throw badRequest('this model has no chat template: use /v1/completions');
      }
      prompt = this.tokenizer.encodeChat(messages);
    } else if (typeof body.prompt === 'string') prompt = this.tokenizer.encode(body.prompt);
    else if (typeof body.prompt[0] === 'string') prompt = this.tokenizer.encode(body.prompt[0]);
    else prompt = body.prompt as number[];
    const maxTokens =
      ('max_completion_tokens' in body ? body.max_completion_tokens : undefined) ??
      body.max_tokens ??
      this.limits.defaultMaxTokens;
    if (maxTokens > this.limits.maxTokens) {
      throw badRequest(
        `max_tokens ${maxTokens} exceeds this server's limit of ${this.limits.maxTokens}`,
      );
    }
    return { prompt, maxTokens, stops: stopStrings(body.stop) };
  }

  async #completion(
    req: IncomingMessage,
    res: ServerResponse,
    kind: 'text' | 'chat',
  ): Promise<void> {
    const raw = await readJson(req, this.limits.maxBodyBytes);
    const body = kind === 'chat' ? parseBody(ChatRequest, raw) : parseBody(CompletionRequest, raw);
    const { prompt, maxTokens, stops } = this.#prepare(body);
    const envelope = {
      id: responseId(kind === 'chat' ? 'chatcmpl' : 'cmpl'),
      created: Math.floor(Date.now() / 1000),
      model: this.info.modelName,
    };
    const streaming = body.stream === true;
    const text = new TextStream((ids) => this.tokenizer.decode(ids), stops);
    const send = (chunk: object): void => {
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    };
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const result: Promise<BatchResult> = this.batcher.submit({
      prompt,
      maxTokens,
      sampling: {
        temperature: body.temperature ?? 1,
        topP: body.top_p ?? 1,
        topK: body.top_k ?? 0,
        seed: body.seed ?? randomInt(2 ** 31),
      },
      signal: abort.signal,
      onToken: (token) => {
        const delta = text.push(token);
        if (streaming && delta) {
          send(
            kind === 'chat'
              ? chatChunk(envelope, { content: delta }, null)
              : completionChunk(envelope, delta, null),
          );
        }
        return text.stopped;
      },
    });
    if (streaming) {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.flushHeaders(); // the client sees 200 before the first token
      if (kind === 'chat') send(chatChunk(envelope, { role: 'assistant', content: '' }, null));
    }
    const { tokens, finish } = await result;
    if (finish === 'cancelled') return;
    const use = usage(prompt.length, tokens.length);
    if (!streaming) {
      sendJson(
        res,
        200,
        kind === 'chat'
          ? chatBody(envelope, text.text, finish, use)
          : completionBody(envelope, text.text, finish, use),
      );
      return;
    }
    const rest = text.flush();
    send(
      kind === 'chat'
        ? chatChunk(envelope, rest ? { content: rest } : {}, finish)
        : completionChunk(envelope, rest, finish),
    );
    if (body.stream_options?.include_usage) {
      send(
        usageChunk(envelope, kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', use),
      );
    }
    res.end('data: [DONE]\n\n');
  }
}
