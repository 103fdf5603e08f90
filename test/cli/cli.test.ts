// The driftflow CLI as a user runs it: JSON output, clear errors and exit codes for bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

function driftflow(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('driftflow CLI', () => {
  it('info --json describes the chosen device', () => {
    const { code, stdout } = driftflow('info', '--device', 'wasm', '--json');
    assert.equal(code, 0);
    const info = JSON.parse(stdout);
    assert.equal(info.kind, 'wasm');
    assert.match(info.label, /^wasm/);
  });

  it('an invalid option value is a usage error naming the flag and the choices', () => {
    const { code, stderr } = driftflow('info', '--device', 'gpu');
    assert.equal(code, 2);
    assert.match(stderr, /--device: .*"auto"\|"webgpu"\|"wasm".*\(got "gpu"\)/);
  });

  it('an unknown command is a usage error', () => {
    const { code, stderr } = driftflow('frobnicate');
    assert.equal(code, 2);
    assert.match(stderr, /unknown command 'frobnicate'/);
  });

  it('start --json measures and verifies the bandwidth on the CPU device', () => {
    const { code, stdout } = driftflow('start', '--device', 'wasm', '--size-mib', '2', '--json');
    assert.equal(code, 0);
    const result = JSON.parse(stdout);
    assert.equal(result.stream.verified, true);
    assert.equal(result.copies, null);
  });
});
