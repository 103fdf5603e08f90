// Continuous batching on a tiny model with the reference engine: a request's greedy tokens do not
// depend on what it shares the engine with or when it arrives; the queue limit, cancellation,
// caller stops and engine failures each end the right requests and leave the rest served.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContinuousBatcher, QueueFullError } from '../../src/moe/batcher.ts';
import { Checkpoint } from '../../src/moe/checkpoint.ts';
import { InvalidRequestError } from '../../src/moe/engine.ts';
import { GREEDY, generateBatch } from '../../src/moe/generate.ts';
import { ReferenceEngine } from '../../src/moe/reference.ts';
import { makeTinyModel } from '../../src/moe/tiny.ts';
import { withStep } from '../helpers/moeEngines.ts';

let root: string;
let checkpoint: Checkpoint;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'driftflow-batcher-'));
  await makeTinyModel({ arch: 'mixtral', out: root, seed: 3 });
  checkpoint = await Checkpoint.open(root);
});
after(async () => {
  await checkpoint.close();
  await rm(root, { recursive: true, force: true });
});

const engineWith = (maxSequences: number): Promise<ReferenceEngine> =>
  ReferenceEngine.load(checkpoint, { maxSequences, maxPositions: 64 });

const prompts = [[5, 77, 130], [9, 200, 31, 4, 4], [250], [17, 18, 19, 20], [60, 61]];
const maxTokens = [6, 3, 8, 5, 4];

async function alone(prompt: number[], n: number): Promise<number[]> {
  const { results } = await generateBatch(await engineWith(1), [{ prompt, maxTokens: n }]);
  return results[0]!.tokens;
}

describe('continuous batcher', () => {
  it('gives every request the tokens it gets alone, with fewer slots than requests and late arrivals', async () => {
    const expected = await Promise.all(prompts.map((p, i) => alone(p, maxTokens[i]!)));
    const batcher = new ContinuousBatcher(await engineWith(2), { maxQueue: 10, eos: [] });
    const early = prompts
      .slice(0, 3)
      .map((prompt, i) => batcher.submit({ prompt, maxTokens: maxTokens[i]!, sampling: GREEDY }));
    await new Promise((r) => setTimeout(r, 5));
    const late = prompts
      .slice(3)
      .map((prompt, i) =>
        batcher.submit({ prompt, maxTokens: maxTokens[i + 3]!, sampling: GREEDY }),
      );
    const results = await Promise.all([...early, ...late]);
    assert.deepEqual(
      results.map((r) => r.tokens),
      expected,
    );
    assert.deepEqual(
      results.map((r) => r.finish),
      prompts.map(() => 'length'),
    );
    assert.equal(
      batcher.stats.generatedTokens,
      maxTokens.reduce((a, b) => a + b, 0),
    );
    assert.equal(batcher.stats.promptTokens, prompts.flat().length);
  });

  it('refuses past the queue limit and rejects invalid prompts before queueing', async () => {
    const batcher = new ContinuousBatcher(await engineWith(1), { maxQueue: 1, eos: [] });
    const running = batcher.submit({ prompt: [1, 2], maxTokens: 4, sampling: GREEDY });
    const queued = batcher.submit({ prompt: [3], maxTokens: 2, sampling: GREEDY });
    assert.throws(
      () => batcher.submit({ prompt: [4], maxTokens: 2, sampling: GREEDY }),
      QueueFullError,
    );
    assert.throws(
      () => batcher.submit({ prompt: [1, 99999], maxTokens: 2, sampling: GREEDY }),
      /outside the vocabulary/,
    );
    assert.throws(
      () => batcher.submit({ prompt: [1, 2, 3], maxTokens: 63, sampling: GREEDY }),
      (e: Error) =>
        e instanceof InvalidRequestError && /65 positions but the context holds 64/.test(e.message),
    );
    await Promise.all([running, queued]);
    assert.equal(batcher.queued + batcher.running, 0);
  });

  it('cancels (queued or running), stops on request and frees the slot for the next request', async () => {
    const batcher = new ContinuousBatcher(await engineWith(1), { maxQueue: 5, eos: [] });
    const abortRunning = new AbortController();
    const abortQueued = new AbortController();
    let seen = 0;
    const cancelled = batcher.submit({
      prompt: prompts[0]!,
      maxTokens: 50,
      sampling: GREEDY,
      signal: abortRunning.signal,
      onToken: () => {
        if (++seen === 2) abortRunning.abort();
      },
    });
    const dropped = batcher.submit({
      prompt: [1],
      maxTokens: 5,
      sampling: GREEDY,
      signal: abortQueued.signal,
    });
    abortQueued.abort();
    const stopped = batcher.submit({ prompt: prompts[1]!, maxTokens: 20, sampling: GREEDY });
    const stopAtThird = batcher.submit({
      prompt: prompts[2]!,
      maxTokens: 20,
      sampling: GREEDY,
      onToken: (() => {
        let n = 0;
        return () => ++n === 3;
      })(),
    });
    const [c, d, s, t] = await Promise.all([cancelled, dropped, stopped, stopAtThird]);
    assert.equal(c.finish, 'cancelled');
    assert.equal(c.tokens.length, 2);
    assert.deepEqual(d, { tokens: [], finish: 'cancelled' });
    assert.deepEqual(s.tokens, await alone(prompts[1]!, 20));
    assert.equal(t.finish, 'stop');
    assert.deepEqual(t.tokens, (await alone(prompts[2]!, 20)).slice(0, 3));
    assert.deepEqual(batcher.stats.finished, { stop: 1, length: 1, cancelled: 2, error: 0 });
  });

  it('an engine failure fails the requests of that step and the batcher keeps serving', async () => {
    const inner = await engineWith(2);
    let failNext = true;
    const flaky = withStep(inner, (entries, observe) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('device lost'));
      }
      return inner.step(entries, observe);
    });
    const batcher = new ContinuousBatcher(flaky, { maxQueue: 5, eos: [] });
    await assert.rejects(
      batcher.submit({ prompt: prompts[0]!, maxTokens: 3, sampling: GREEDY }),
      /device lost/,
    );
    const ok = await batcher.submit({ prompt: prompts[3]!, maxTokens: 5, sampling: GREEDY });
    assert.deepEqual(ok.tokens, await alone(prompts[3]!, 5));
    assert.equal(batcher.stats.finished.error, 1);
  });

  it('stops a sequence at an end-of-sequence token', async () => {
    const expected = await alone(prompts[4]!, 4);
    const batcher = new ContinuousBatcher(await engineWith(1), {
      maxQueue: 1,
      eos: [expected[1]!],
    });
    const result = await batcher.submit({ prompt: prompts[4]!, maxTokens: 4, sampling: GREEDY });
    const first = expected.indexOf(expected[1]!);
    assert.deepEqual(result, { tokens: expected.slice(0, first + 1), finish: 'stop' });
  });
});
