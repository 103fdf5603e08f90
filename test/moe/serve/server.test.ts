// The OpenAI-compatible server on a tiny model (reference engine, CPU), spoken to over HTTP as a
// client would: completions and chat, whole and streamed (same text), bad requests answered with
// 4xx JSON while the server keeps serving, 429 when the queue is full, a disconnecting client
// cancelled, /health and /metrics.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContinuousBatcher } from '../../../src/moe/batcher.ts';
import { Checkpoint } from '../../../src/moe/checkpoint.ts';
import { generateBatch } from '../../../src/moe/generate.ts';
import { ReferenceEngine } from '../../../src/moe/reference.ts';
import { MoeServer } from '../../../src/moe/serve/server.ts';
import { makeTinyModel } from '../../../src/moe/tiny.ts';
import { ModelTokenizer } from '../../../src/moe/tokenizer.ts';
import { withStep } from '../../helpers/moeEngines.ts';

let root: string;
let checkpoint: Checkpoint;
let tokenizer: ModelTokenizer;
let server: MoeServer;
let base: string;

/** A server over the reference engine; `gate`, when given, holds every engine step until it resolves. */
async function startServer(
  maxBatch: number,
  maxQueue: number,
  gate?: Promise<void>,
): Promise<MoeServer> {
  const inner = await ReferenceEngine.load(checkpoint, {
    maxSequences: maxBatch,
    maxPositions: 96,
  });
  const engine = withStep(inner, async (entries, observe) => {
    await gate;
    return inner.step(entries, observe);
  });
  const batcher = new ContinuousBatcher(engine, { maxQueue, eos: tokenizer.eosIds });
  return new MoeServer(
    batcher,
    tokenizer,
    { modelName: 'tiny', arch: 'qwen2_moe', device: 'cpu', policy: 'all-gpu' },
    { maxBodyBytes: 4096, maxTokens: 64, defaultMaxTokens: 8 },
  );
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'driftflow-serve-'));
  await makeTinyModel({ arch: 'qwen2_moe', out: root, seed: 5 });
  checkpoint = await Checkpoint.open(root);
  tokenizer = await ModelTokenizer.open(root);
  server = await startServer(2, 4);
  base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
});
after(async () => {
  await server.close();
  await checkpoint.close();
  await rm(root, { recursive: true, force: true });
});

const post = (path: string, body: unknown, url = base): Promise<Response> =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Reads an SSE response into its parsed data events (without the final [DONE]). */
async function events(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  const data = text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice(6));
  assert.equal(data.at(-1), '[DONE]');
  return data.slice(0, -1).map((d) => JSON.parse(d) as Record<string, unknown>);
}

type Choice = { text?: string; delta?: { content?: string }; finish_reason: string | null };

async function expectedText(prompt: number[], maxTokens: number): Promise<string> {
  const engine = await ReferenceEngine.load(checkpoint, { maxSequences: 1, maxPositions: 96 });
  const { results } = await generateBatch(engine, [{ prompt, maxTokens }], {
    eos: tokenizer.eosIds,
  });
  return tokenizer.decode(results[0]!.tokens);
}

describe('moe serve (OpenAI-compatible)', () => {
  it('completes text and token-id prompts greedily, exactly as generateBatch does', async () => {
    const prompt = 'The quick brown fox';
    const response = await post('/v1/completions', {
      model: 'tiny',
      prompt,
      max_tokens: 7,
      temperature: 0,
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      object: string;
      choices: Choice[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    assert.equal(body.object, 'text_completion');
    assert.equal(body.choices[0]!.text, await expectedText(tokenizer.encode(prompt), 7));
    assert.equal(body.usage.prompt_tokens, tokenizer.encode(prompt).length);
    const byIds = (await (
      await post('/v1/completions', { prompt: [5, 9, 11], max_tokens: 5, temperature: 0 })
    ).json()) as { choices: Choice[] };
    assert.equal(byIds.choices[0]!.text, await expectedText([5, 9, 11], 5));
  });

  it('streams chat as SSE chunks whose text equals the unstreamed answer', async () => {
    const request = {
      messages: [{ role: 'user', content: 'Say something.' }],
      max_tokens: 9,
      temperature: 0.8,
      seed: 42,
    };
    const whole = (await (await post('/v1/chat/completions', request)).json()) as {
      choices: { message: { role: string; content: string }; finish_reason: string }[];
    };
    const response = await post('/v1/chat/completions', {
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const chunks = await events(response);
    const choices = chunks.slice(0, -1).map((c) => (c.choices as Choice[])[0]!);
    const streamed = choices.map((c) => c.delta?.content ?? '').join('');
    assert.equal(streamed, whole.choices[0]!.message.content);
    assert.equal(choices.at(-1)!.finish_reason, whole.choices[0]!.finish_reason);
    assert.ok(choices.slice(0, -1).every((c) => c.finish_reason === null));
    assert.deepEqual((chunks.at(-1)!.usage as { completion_tokens: number }).completion_tokens, 9);
  });

  it('answers bad requests with 4xx JSON errors and keeps serving', async () => {
    const cases: [string, unknown, number, RegExp][] = [
      ['/v1/completions', '{not json', 400, /not valid JSON/],
      ['/v1/completions', { prompt: 'hi', n: 2 }, 400, /n > 1 is not supported/],
      ['/v1/completions', { prompt: 'hi', max_tokens: 65 }, 400, /limit of 64/],
      ['/v1/completions', { prompt: [1, 2, 999999] }, 400, /outside the vocabulary/],
      ['/v1/completions', { prompt: Array(90).fill(3), max_tokens: 10 }, 400, /context holds 96/],
      ['/v1/completions', { prompt: 'hi', model: 'gpt-4' }, 404, /serves 'tiny'/],
      ['/v1/completions', { prompt: 'x'.repeat(5000) }, 413, /exceeds 4096 bytes/],
      ['/v1/chat/completions', { messages: [] }, 400, /messages/],
      ['/v1/nothing', {}, 404, /no route/],
    ];
    for (const [path, body, status, message] of cases) {
      const response = await post(path, body);
      assert.equal(response.status, status, `${JSON.stringify(body).slice(0, 40)}`);
      const error = ((await response.json()) as { error: { message: string } }).error;
      assert.match(error.message, message);
    }
    const wrongMethod = await fetch(`${base}/v1/completions`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    const health = (await (await fetch(`${base}/health`)).json()) as { status: string };
    assert.equal(health.status, 'ok');
  });

  it('answers 429 when slots and queue are full, and cancels a client that hangs up', async () => {
    let open = (): void => undefined;
    const small = await startServer(1, 0, new Promise<void>((resolve) => (open = resolve)));
    const url = `http://127.0.0.1:${await small.listen(0, '127.0.0.1')}`;
    const metrics = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();
    try {
      const hangUp = new AbortController();
      const long = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ prompt: [1, 2], max_tokens: 60, stream: true, seed: 1 }),
        signal: hangUp.signal,
      });
      // Seeded: an unseeded draw can sample EOS as its first token and end as 'stop' (a flake).
      assert.equal(long.status, 200); // it holds the only slot; its first step waits on the gate
      assert.match(await metrics(), /driftflow_moe_requests_running 1/);
      const refused = await post('/v1/completions', { prompt: 'hi', max_tokens: 2 }, url);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '1');
      hangUp.abort();
      await long.body?.cancel().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50)); // the server sees the socket close
      open();
      let text = '';
      for (let i = 0; i < 100 && !/reason="cancelled"} 1/.test(text); i++) {
        await new Promise((r) => setTimeout(r, 20));
        text = await metrics();
      }
      assert.match(text, /driftflow_moe_requests_finished_total\{reason="cancelled"\} 1/);
      assert.match(text, /driftflow_moe_requests_rejected_total\{reason="queue_full"\} 1/);
      assert.match(text, /driftflow_moe_generated_tokens_total 1\n/); // one step ran, then the slot was freed
      const after = await post('/v1/completions', { prompt: 'hi', max_tokens: 2 }, url);
      assert.equal(after.status, 200);
    } finally {
      open();
      await small.close();
    }
  });
});
