// `driftflow moe` as a user runs it: make a tiny model, generate from text and token ids on the CPU
// path with JSON output, and clear errors for bad ids, a prompt longer than the context and an
// unknown family.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { readTrace } from '../../src/moe/trace.ts';
import { driftflow } from '../helpers/cli.ts';

describe('driftflow moe CLI', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'driftflow-moe-cli-')), 'tiny');

  it('make-tiny writes a loadable model; generate --json returns ids and text per prompt', () => {
    const made = driftflow('moe', 'make-tiny', '--arch', 'mixtral', '--out', dir, '--shards', '2');
    assert.equal(made.code, 0, made.stderr);
    const { code, stdout, stderr } = driftflow(
      'moe',
      'generate',
      '--model',
      dir,
      '--prompt',
      'the cat',
      '--prompt-ids',
      '3,17,42',
      '--max-tokens',
      '5',
      '--device',
      'wasm',
      '--json',
    );
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    assert.equal(out.arch, 'mixtral');
    assert.equal(out.results.length, 2);
    assert.deepEqual(out.results[1].prompt_ids, [3, 17, 42]);
    for (const r of out.results) {
      assert.ok(r.token_ids.length >= 1 && r.token_ids.length <= 5);
      assert.equal(typeof r.text, 'string');
    }
    assert.ok(out.timing.decode_tokens_per_s > 0);
  });

  it('bad token ids, a too-long prompt and an unknown family are clear errors', () => {
    const ids = driftflow(
      'moe',
      'generate',
      '--model',
      dir,
      '--prompt-ids',
      '3,99999',
      '--device',
      'wasm',
    );
    assert.equal(ids.code, 2);
    assert.match(ids.stderr, /token id 99999 is outside the vocabulary/);
    const long = driftflow(
      'moe',
      'generate',
      '--model',
      dir,
      '--prompt-ids',
      '1,2,3,4,5,6,7,8,9,10',
      '--max-context',
      '8',
      '--device',
      'wasm',
    );
    assert.equal(long.code, 2);
    assert.match(long.stderr, /needs 10 positions but the KV cache holds 8/);
    const arch = driftflow('moe', 'make-tiny', '--arch', 'llama', '--out', dir);
    assert.equal(arch.code, 2);
    assert.match(arch.stderr, /--arch/);
  });

  it('serve answers over HTTP on the port it prints and drains on SIGTERM (exit 0)', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'moe',
        'serve',
        '--model',
        dir,
        '--port',
        '0',
        '--device',
        'wasm',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const url = /listening on (http:\S+)/.exec(line)?.[1];
      assert.ok(url, `unexpected first line: ${line} ${stderr}`);
      const response = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'tiny', prompt: 'the cat', max_tokens: 3 }),
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as { usage: { completion_tokens: number } };
      assert.ok(body.usage.completion_tokens >= 1);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
  });

  it('trace writes an HDF5 routing trace from a JSON-lines prompt file; a bad line is a clear error', async () => {
    const prompts = join(dir, '..', 'prompts.jsonl');
    writeFileSync(prompts, '{"text": "the cat sat", "domain": "news"}\nplain line\n');
    const out = join(dir, '..', 'trace.h5');
    const traced = driftflow(
      'moe',
      'trace',
      '--model',
      dir,
      '--prompts',
      prompts,
      '--max-tokens',
      '3',
      '--device',
      'wasm',
      '--out',
      out,
    );
    assert.equal(traced.code, 0, traced.stderr);
    const trace = await readTrace(out);
    assert.deepEqual(
      trace.sequences.map((s) => s.domain),
      ['news', 'default'],
    );
    writeFileSync(prompts, '{"txt": "oops"}\n');
    const bad = driftflow('moe', 'trace', '--model', dir, '--prompts', prompts, '--out', out);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /line 1 has no "text" string/);
  });
});
