/**
 * Continuous batching for the server: requests wait in a bounded queue, enter a free KV-cache slot
 * as soon as one opens (their prompt is prefilled in the same engine step as the other sequences'
 * decode tokens), and leave when they finish, are stopped by their caller or are cancelled. Each
 * sequence samples from its own seeded generator, so a request's tokens do not depend on what it
 * was batched with (greedy tokens equal `generateBatch`'s).
 */
import { uniformGenerator } from '../spectral/random.ts';
import {
  checkTokenIds,
  InvalidRequestError,
  type MoeEngine,
  type RouteObserver,
} from './engine.ts';
import { sampleToken, type SamplingOptions } from './generate.ts';

export interface BatchRequest {
  prompt: number[];
  maxTokens: number;
  sampling: SamplingOptions;
  /** Sees every new token; returning true ends the sequence there (e.g. a stop string matched). */
  onToken?: (token: number) => boolean | void;
  /** Aborting drops the request from the queue or frees its slot before the next step. */
  signal?: AbortSignal;
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface BatchResult {
  tokens: number[];
  finish: FinishReason;
}

/** The queue is at its limit: the caller should retry later (HTTP 429). */
export class QueueFullError extends Error {
  constructor(limit: number) {
    super(`the request queue is full (${limit} waiting): retry later`);
    this.name = 'QueueFullError';
  }
}

/** The batcher is shutting down and takes no new requests (HTTP 503). */
export class ShuttingDownError extends Error {
  constructor() {
    super('the server is shutting down');
    this.name = 'ShuttingDownError';
  }
}

interface Sequence {
  request: BatchRequest;
  tokens: number[];
  next: number[];
  uniform: () => number;
  resolve: (result: BatchResult) => void;
  reject: (error: Error) => void;
}

/** Cumulative counts for /metrics. */
export interface BatcherStats {
  steps: number;
  stepSeconds: number;
  promptTokens: number;
  generatedTokens: number;
  finished: Record<FinishReason | 'error', number>;
  /** Generated tokens per second of engine time over the last `windowSeconds` of steps. */
  recentTokensPerSecond: number;
}

export class ContinuousBatcher {
  readonly #queue: Sequence[] = [];
  readonly #running = new Map<number, Sequence>();
  readonly #freeSlots: number[];
  readonly #eos: Set<number>;
  readonly #recent: { at: number; tokens: number; seconds: number }[] = [];
  #loop: Promise<void> | null = null;
  #closing = false;
  readonly stats: Omit<BatcherStats, 'recentTokensPerSecond'> = {
    steps: 0,
    stepSeconds: 0,
    promptTokens: 0,
    generatedTokens: 0,
    finished: { stop: 0, length: 0, cancelled: 0, error: 0 },
  };

  constructor(
    readonly engine: MoeEngine,
    readonly options: {
      maxQueue: number;
      eos: number[];
      observe?: RouteObserver;
      windowSeconds?: number;
    },
  ) {
    this.#freeSlots = Array.from({ length: engine.maxSequences }, (_, i) => i).reverse();
    this.#eos = new Set(options.eos);
  }

  get queued(): number {
    return this.#queue.length;
  }

  get running(): number {
    return this.#running.size;
  }

  recentTokensPerSecond(now = performance.now()): number {
    const horizon = now - 1000 * (this.options.windowSeconds ?? 10);
    while (this.#recent.length > 0 && this.#recent[0]!.at < horizon) this.#recent.shift();
    const seconds = this.#recent.reduce((a, r) => a + r.seconds, 0);
    return seconds > 0 ? this.#recent.reduce((a, r) => a + r.tokens, 0) / seconds : 0;
  }

  /** Checks a request against the model before it is queued (InvalidRequestError / SequenceTooLongError). */
  validate(request: BatchRequest): void {
    const { engine } = this;
    if (request.prompt.length === 0) throw new InvalidRequestError('the prompt has no tokens');
    checkTokenIds(request.prompt, engine.spec.vocab);
    // The last sampled token is never fed back, so it needs no cache position.
    const needed = request.prompt.length + Math.max(0, request.maxTokens - 1);
    if (needed > engine.maxPositions) {
      throw new InvalidRequestError(
        `the prompt (${request.prompt.length} tokens) and max_tokens (${request.maxTokens}) need ` +
          `${needed} positions but the context holds ${engine.maxPositions}: shorten the prompt or lower max_tokens`,
      );
    }
  }

  /** Queues a request; resolves when it finishes. Throws at once if invalid or the queue is full. */
  submit(request: BatchRequest): Promise<BatchResult> {
    if (this.#closing) throw new ShuttingDownError();
    this.validate(request);
    if (request.maxTokens <= 0) return Promise.resolve({ tokens: [], finish: 'length' });
    // Requests ahead in the queue take the free slots first; this one waits if none is left.
    const waiting = this.#queue.length + 1 - this.#freeSlots.length;
    if (waiting > this.options.maxQueue) throw new QueueFullError(this.options.maxQueue);
    return new Promise<BatchResult>((resolve, reject) => {
      this.#queue.push({
        request,
        tokens: [],
        next: request.prompt,
        uniform: uniformGenerator(request.sampling.seed),
        resolve,
        reject,
      });
      this.#loop ??= this.#run();
    });
  }

  /** Takes no new requests and waits for the queued and running ones to finish. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#loop;
  }

  #finish(sequence: Sequence, finish: FinishReason): void {
    this.stats.finished[finish]++;
    sequence.resolve({ tokens: sequence.tokens, finish });
  }

  #dropCancelled(): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const sequence = this.#queue[i]!;
      if (sequence.request.signal?.aborted) {
        this.#queue.splice(i, 1);
        this.#finish(sequence, 'cancelled');
      }
    }
    for (const [slot, sequence] of this.#running) {
      if (sequence.request.signal?.aborted) {
        this.#running.delete(slot);
        this.#freeSlots.push(slot);
        this.#finish(sequence, 'cancelled');
      }
    }
  }

  async #run(): Promise<void> {
    for (;;) {
      this.#dropCancelled();
      while (this.#queue.length > 0 && this.#freeSlots.length > 0) {
        const slot = this.#freeSlots.pop()!;
        this.engine.reset(slot);
        this.#running.set(slot, this.#queue.shift()!);
      }
      if (this.#running.size === 0) {
        this.#loop = null; // synchronously, so a submit after this point starts a new loop
        return;
      }
      const batch = [...this.#running];
      const entries = batch.map(([slot, s]) => ({ slot, tokens: s.next }));
      const started = performance.now();
      let logits: Float32Array[];
      try {
        logits = await this.engine.step(entries, this.options.observe);
      } catch (error) {
        // The engine's state for these slots is unknown now: fail them, keep serving the rest.
        for (const [slot, sequence] of batch) {
          this.#running.delete(slot);
          this.#freeSlots.push(slot);
          this.stats.finished.error++;
          sequence.reject(error as Error);
        }
        continue;
      }
      const seconds = (performance.now() - started) / 1000;
      this.stats.steps++;
      this.stats.stepSeconds += seconds;
      this.stats.generatedTokens += batch.length;
      this.#recent.push({ at: performance.now(), tokens: batch.length, seconds });
      batch.forEach(([slot, sequence], i) => {
        if (sequence.tokens.length === 0) this.stats.promptTokens += sequence.request.prompt.length;
        const { request } = sequence;
        const token = sampleToken(logits[i]!, request.sampling, sequence.uniform);
        sequence.tokens.push(token);
        let stopped: boolean;
        try {
          stopped = request.onToken?.(token) === true;
        } catch {
          stopped = true; // the consumer failed (e.g. its connection broke): end the sequence
        }
        const finish: FinishReason | null =
          this.#eos.has(token) || stopped
            ? 'stop'
            : sequence.tokens.length >= request.maxTokens
              ? 'length'
              : null;
        if (finish) {
          this.#running.delete(slot);
          this.#freeSlots.push(slot);
          this.#finish(sequence, finish);
        } else sequence.next = [token];
      });
    }
  }
}
