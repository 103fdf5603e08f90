/**
 * The FOT-CFM commands end to end, as a user runs them: `ns run` -> `flow dataset` -> `flow train`
 * (stopped and resumed: same model as one uninterrupted run) -> `flow sample` at twice the
 * training resolution, the DDPM baseline on the same data (`--objective ddpm`, sampled with DDIM on
 * its training grid only), `flow eval` of both side by side, and the clear errors for bad input.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readH5 } from '../../src/io/hdf5.ts';
import { driftflow } from '../helpers/cli.ts';

describe('flow commands', () => {
  it('dataset, train with resume, and sample at 2x', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flow-cli-'));
    const run = join(dir, 'ns.h5');
    const data = join(dir, 'data.h5');
    let r = driftflow(
      'ns',
      'run',
      '--case',
      'fno',
      '--nx',
      '32',
      '--nu',
      '1e-3',
      '--dt',
      '0.01',
      '--t-end',
      '2',
      '--save-every',
      '0.2',
      '--device',
      'wasm',
      '--out',
      run,
    );
    assert.equal(r.code, 0, r.stderr);
    r = driftflow(
      'flow',
      'dataset',
      '--runs',
      run,
      '--sizes',
      '32,16',
      '--from',
      '0.4',
      '--held-out',
      '0.2',
      '--out',
      data,
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { train: 8, test: 1, sizes: [32, 16], source: 32 });

    const train = (out: string, ...extra: string[]) =>
      driftflow(
        'flow',
        'train',
        '--data',
        data,
        '--size',
        '16',
        '--out',
        out,
        '--width',
        '8',
        '--modes',
        '4',
        '--layers',
        '2',
        '--projection',
        '8',
        '--steps',
        '6',
        '--batch',
        '4',
        '--warmup',
        '2',
        '--checkpoint-every',
        '2',
        '--device',
        'wasm',
        '--json',
        ...extra,
      );
    r = train(join(dir, 'whole'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).finished, true);
    r = train(join(dir, 'split'), '--max-steps-this-run', '3');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).finished, false);
    r = train(join(dir, 'split'), '--resume');
    assert.equal(r.code, 0, r.stderr);
    const model = (name: string) => readFileSync(join(dir, name, 'fno.safetensors'));
    assert.ok(model('whole').equals(model('split')), 'a resumed run ends with the same model');
    r = train(join(dir, 'fitted'), '--noise-fit', '--max-steps-this-run', '1');
    assert.equal(r.code, 0, r.stderr);
    const [fitted] = JSON.parse(r.stdout).noise;
    assert.ok(fitted.alpha > 1 && fitted.tau > 0, JSON.stringify(fitted));
    assert.notDeepEqual(fitted, { tau: 3, alpha: 2 }, 'the fit moves the default measure');
    r = train(join(dir, 'whole'));
    assert.notEqual(r.code, 0, 'an existing run without --resume is refused');
    assert.match(r.stderr, /already holds a training run/);

    const sample = (
      model: string,
      nx: number,
      method: string,
      out: string,
      nfe = 4,
      ...extra: string[]
    ) =>
      driftflow(
        'flow',
        'sample',
        '--model',
        join(dir, model, 'fno.safetensors'),
        '--nx',
        String(nx),
        '--n',
        '3',
        '--method',
        method,
        '--nfe',
        String(nfe),
        '--device',
        'wasm',
        '--out',
        join(dir, out),
        '--json',
        ...extra,
      );
    const samples = join(dir, 'samples.h5');
    r = sample('whole', 32, 'rk4', 'samples.h5', 8);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).nfe, 8);
    const file = await readH5(samples);
    try {
      const s = file.get('/samples');
      assert.deepEqual(s.shape, [3, 32, 32, 1]);
      assert.ok([...s.data].every(Number.isFinite));
      assert.equal(file.attrs.train_size, 16);
    } finally {
      file.close();
    }
    r = sample('whole', 32, 'rk4', 'samples.h5', 6);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--nfe 6 is not a multiple of rk4's 4/);
    r = sample('whole', 32, 'rk4', 'samples.h5', 8, '--time-grid', 'log');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /time-grid|timeGrid/);

    r = train(join(dir, 'film'), '--time-features', '3');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--time-features 3 must be even/);
    r = train(join(dir, 'film'), '--time-features', '4', '--steps', '2');
    assert.equal(r.code, 0, r.stderr);
    r = sample('film', 32, 'midpoint', 'film-32.h5', 4);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).straightness >= 0);

    r = train(join(dir, 'ddpm'), '--objective', 'ddpm', '--coupling', 'ot');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /DDPM pairs nothing: drop --coupling/);
    r = train(join(dir, 'ddpm'), '--objective', 'ddpm');
    assert.equal(r.code, 0, r.stderr);
    r = sample('ddpm', 16, 'ddim', 'ddpm-16.h5');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).straightness, null);
    r = sample('ddpm', 32, 'ddim', 'ddpm-32.h5');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /lives on its 16² training grid/);
    r = sample('ddpm', 16, 'rk4', 'ddpm-16.h5');
    assert.match(r.stderr, /--method rk4 does not sample a DDPM model: use ddpm \| ddim/);
    r = sample('whole', 16, 'euler', 'fm-16.h5', 4, '--time-grid', 'cosine');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).straightness >= 0);
    r = driftflow(
      'flow',
      'eval',
      '--samples',
      join(dir, 'fm-16.h5'),
      join(dir, 'ddpm-16.h5'),
      '--labels',
      'flow',
      'ddpm',
      '--data',
      data,
      '--out',
      join(dir, 'eval'),
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(
      report.runs.map((x: { label: string; method: string; timeGrid: string | null }) => [
        x.label,
        x.method,
        x.timeGrid,
      ]),
      [
        ['flow', 'euler', 'cosine'],
        ['ddpm', 'ddim', null],
      ],
    );
    assert.equal(report.reference[0].structure.kind, 'velocity');
  });
});
