// HDF5 output: datasets, growing frames and series, attributes, atomic commit/abort, and an
// independent read with h5py where Python has it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { H5Writer, readH5 } from '../../src/io/hdf5.ts';

const dir = await mkdtemp(join(tmpdir(), 'driftflow-h5-'));

async function writeSample(path: string): Promise<void> {
  const writer = await H5Writer.create(path, { c1: 1, kappa: 1, model: 'hw', modified: false });
  writer.writeDataset('/grid/x', { data: Float64Array.from([0, 0.5, 1]), shape: [3] });
  for (let t = 0; t < 3; t++) {
    writer.appendFrame(
      '/fields/density',
      Float32Array.from({ length: 6 }, (_, i) => 10 * t + i),
      [2, 3],
      { layout: 'time, y, x' },
    );
    writer.appendSeries('/timeseries/time', [t * 0.5]);
  }
  writer.setAttributes('/fields/density', { units: 'rho_s' });
  await writer.commit();
}

function h5pyPython(): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(python, ['-c', 'import h5py'], { stdio: 'ignore' });
      return python;
    } catch {}
  }
  return null;
}

describe('HDF5 writer', () => {
  it('writes datasets, growing frames, series and attributes', async () => {
    const path = join(dir, 'run.h5');
    await writeSample(path);
    const file = await readH5(path);
    try {
      assert.deepEqual(file.attrs, { c1: 1, kappa: 1, model: 'hw', modified: 0 });
      const density = file.get('/fields/density');
      assert.deepEqual(density.shape, [3, 2, 3]);
      assert.deepEqual([...density.data].slice(12), [20, 21, 22, 23, 24, 25]);
      assert.equal(density.attrs.units, 'rho_s');
      assert.equal(density.attrs.layout, 'time, y, x');
      assert.deepEqual(file.get('/timeseries/time').shape, [3, 1]);
      assert.ok(file.get('/grid/x').data instanceof Float64Array);
    } finally {
      file.close();
    }
  });

  it('setting an attribute again replaces it (a long run updates wall_seconds at every checkpoint)', async () => {
    const path = join(dir, 'again.h5');
    const writer = await H5Writer.create(path, { wall_seconds: 1 });
    writer.writeDataset('/x', { data: Float64Array.from([1]), shape: [1], attrs: { units: 'm' } });
    writer.setAttributes('/', { wall_seconds: 2 });
    writer.setAttributes('/', { wall_seconds: 3.5 });
    writer.setAttributes('/x', { units: 'rho_s' });
    await writer.commit();
    const file = await readH5(path);
    try {
      assert.equal(file.attrs.wall_seconds, 3.5);
      assert.equal(file.get('/x').attrs.units, 'rho_s');
    } finally {
      file.close();
    }
  });

  it('the target appears only on commit; abort keeps the previous file', async () => {
    const path = join(dir, 'atomic.h5');
    const first = await H5Writer.create(path, { version: 1 });
    assert.equal(existsSync(path), false, 'nothing at the target before commit');
    await first.commit();
    const second = await H5Writer.create(path, { version: 2 });
    await second.abort();
    const file = await readH5(path);
    assert.equal(file.attrs.version, 1);
    file.close();
  });

  it('staged appends reach the target at each checkpoint, in order, as unstaged writes do', async () => {
    const write = async (path: string, stageLimitBytes: number) => {
      const writer = await H5Writer.create(path);
      writer.stageLimitBytes = stageLimitBytes;
      const frame = new Float32Array(4);
      for (let t = 0; t < 5; t++) {
        frame.fill(t); // the caller reuses its array: the stage must have copied it
        writer.appendFrame('/fields/f', frame, [2, 2]);
        writer.appendValues('/timeseries/time', Float64Array.of(t, t + 0.5));
        if (t === 2) {
          await writer.checkpoint();
          const published = await readH5(path);
          assert.deepEqual(published.get('/fields/f').shape, [3, 2, 2]);
          assert.deepEqual([...published.get('/timeseries/time').data], [0, 0.5, 1, 1.5, 2, 2.5]);
          published.close();
        }
      }
      await writer.commit();
      const file = await readH5(path);
      const result = [file.get('/fields/f'), file.get('/timeseries/time')].map((d) => ({
        shape: d.shape,
        data: [...d.data],
      }));
      file.close();
      return result;
    };
    const staged = await write(join(dir, 'staged.h5'), 1 << 20);
    const unstaged = await write(join(dir, 'unstaged.h5'), 0);
    assert.deepEqual(staged, unstaged);
    assert.deepEqual(staged[0]!.data, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]);
    assert.deepEqual(staged[1]!.shape, [10]);
  });

  it('rejects a frame of the wrong size', async () => {
    const writer = await H5Writer.create(join(dir, 'bad.h5'));
    assert.throws(
      () => writer.appendFrame('/f', new Float32Array(5), [2, 3]),
      /frame has 5 values, shape 2,3 needs 6/,
    );
    await writer.abort();
  });

  const python = h5pyPython();
  it(
    'opens in h5py with the obvious names',
    {
      skip: python ? false : 'h5py not installed (apt-get install python3-h5py)',
    },
    async () => {
      const path = join(dir, 'h5py.h5');
      await writeSample(path);
      const script = [
        'import h5py, json, sys',
        'f = h5py.File(sys.argv[1], "r")',
        'd = f["fields/density"]',
        'print(json.dumps({"shape": list(d.shape), "last": float(d[2, 1, 2]), "c1": float(f.attrs["c1"]), "model": str(f.attrs["model"]), "t": [float(v) for v in f["timeseries/time"][:, 0]]}))',
      ].join('\n');
      const out = JSON.parse(execFileSync(python!, ['-c', script, path], { encoding: 'utf8' }));
      assert.deepEqual(out, { shape: [3, 2, 3], last: 25, c1: 1, model: 'hw', t: [0, 0.5, 1] });
    },
  );
});
