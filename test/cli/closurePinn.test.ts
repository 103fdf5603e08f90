// `closure fit --method pinn` end to end at toy size: two small DNS regimes with dense snapshots,
// coarse-grained, one network fitted across them; `closure run` takes the per-regime closure it
// wrote and evaluates the network at a c1 between the regimes; outside them it refuses.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readH5 } from '../../src/io/hdf5.ts';
import { driftflow } from '../helpers/cli.ts';

describe('driftflow closure fit --method pinn', () => {
  it('fits across regimes, runs at a regime between them, refuses one outside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftflow-pinn-'));
    const coarse: string[] = [];
    for (const c1 of ['0.5', '1']) {
      const dns = join(dir, `dns_${c1}.h5`);
      const run = driftflow(
        ...[
          'hw',
          'run',
          '--nx',
          '32',
          '--c1',
          c1,
          '--nu',
          '1e-3',
          '--dt',
          '0.02',
          '--t-end',
          '1.6',
        ],
        ...['--save-every', '0.2', '--device', 'wasm', '--out', dns],
      );
      assert.equal(run.code, 0, run.stderr);
      coarse.push(join(dir, `coarse_${c1}.h5`));
      const prepare = driftflow(
        'closure',
        'prepare',
        '--dns',
        dns,
        '--factor',
        '2',
        '--out',
        coarse.at(-1)!,
      );
      assert.equal(prepare.code, 0, prepare.stderr);
    }
    const out = join(dir, 'pinn');
    const fit = driftflow(
      ...['closure', 'fit', '--method', 'pinn', '--data', ...coarse, '--out', out],
      ...['--pretrain-steps', '100', '--steps', '2', '--batch', '1', '--substeps', '4'],
      ...['--device', 'wasm', '--json'],
    );
    assert.equal(fit.code, 0, fit.stderr);
    const result = JSON.parse(fit.stdout);
    assert.equal(result.regimes.length, 2);
    for (const name of ['network.safetensors', 'pinn.json', 'training-data.safetensors'])
      assert.ok(existsSync(join(out, name)), name);
    const atHalf = JSON.parse(readFileSync(join(out, 'c1_0.5', 'closure.json'), 'utf8'));
    assert.equal(atHalf.method, 'pinn');
    assert.deepEqual(
      atHalf.terms.map((t: { coefficient: number }) => t.coefficient),
      result.regimes[0].coefficients,
    );
    // The network folder at c1 = 0.5 gives the same closure as the file written for that regime.
    const runFile = join(dir, 'run.h5');
    const run = driftflow(
      ...['closure', 'run', '--closure', out, '--c1', '0.5', '--t-end', '0.2', '--dt', '0.05'],
      ...['--device', 'wasm', '--out', runFile],
    );
    if (run.code !== 0) assert.match(run.stderr, /not damping at the grid scale/);
    else {
      const file = await readH5(runFile);
      const config = JSON.parse(String(file.attrs.config_json));
      file.close();
      config.model.closure.coefficients.forEach((c: number, j: number) =>
        assert.ok(
          Math.abs(c - result.regimes[0].coefficients[j]) < 1e-12 * Math.max(1, Math.abs(c)),
        ),
      );
    }
    const between = driftflow('closure', 'run', '--closure', out, '--c1', '0.7', '--t-end', '0.1');
    if (between.code !== 0) assert.match(between.stderr, /not damping at the grid scale/);
    const outside = driftflow('closure', 'run', '--closure', out, '--c1', '3', '--t-end', '0.1');
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /outside the regimes the network was trained on/);
    const missing = driftflow('closure', 'run', '--closure', out, '--t-end', '0.1');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /pass --c1/);
  });
});
