/**
 * `flow dataset`: from a run file holding band-limited fields with a known formula, every
 * resolution holds exactly the modes below its cut-off (the 32² copy equals the source, the 16²
 * copy equals the formula without its wavenumber-10 term), snapshots before `from` are skipped,
 * every k-th is used, and the last held-out fraction goes to /test.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildDataset } from '../../src/flow/dataset.ts';
import { H5Writer, readH5 } from '../../src/io/hdf5.ts';

const low = (x: number, y: number, t: number) =>
  Math.sin(2 * Math.PI * (x + t)) + 0.5 * Math.cos(2 * Math.PI * 3 * y);
const high = (x: number) => 0.2 * Math.sin(2 * Math.PI * 10 * x);

describe('flow dataset', () => {
  let dir: string;
  after(() => rm(dir, { recursive: true, force: true }));

  it('band-limits snapshots to every size and splits train / held-out in time', async () => {
    dir = await mkdtemp(join(tmpdir(), 'flow-data-'));
    const run = join(dir, 'run.h5');
    const writer = await H5Writer.create(run, { model: 'ns' });
    const n = 32;
    for (let f = 0; f < 10; f++) {
      const t = 0.5 * f;
      const field = new Float32Array(n * n);
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++) field[y * n + x] = low(x / n, y / n, t) + high(x / n);
      writer.appendFrame('/fields/omega', field, [n, n]);
      writer.appendValues('/fields/time', Float64Array.of(t));
    }
    await writer.commit();
    const out = join(dir, 'data.h5');
    const summary = await buildDataset({
      runs: [run],
      fields: ['omega'],
      sizes: [32, 16],
      from: 1, // skips t = 0, 0.5
      every: 2, // t = 1, 2, 3, 4
      heldOut: 0.25,
      out,
    });
    assert.deepEqual({ train: summary.train, test: summary.test }, { train: 3, test: 1 });
    const file = await readH5(out);
    try {
      assert.deepEqual([...file.get('/train_time').data], [1, 2, 3]);
      assert.deepEqual([...file.get('/test_time').data], [4]);
      const fine = file.get('/train/32');
      const coarse = file.get('/train/16');
      assert.deepEqual(coarse.shape, [3, 16, 16, 1]);
      let worstFine = 0;
      let worstCoarse = 0;
      for (let s = 0; s < 3; s++) {
        const t = s + 1;
        for (let y = 0; y < 32; y++)
          for (let x = 0; x < 32; x++) {
            const want = low(x / 32, y / 32, t) + high(x / 32);
            worstFine = Math.max(worstFine, Math.abs(fine.data[(s * 32 + y) * 32 + x]! - want));
          }
        for (let y = 0; y < 16; y++)
          for (let x = 0; x < 16; x++) {
            const want = low(x / 16, y / 16, t); // wavenumber 10 is above 16²'s cut-off
            worstCoarse = Math.max(
              worstCoarse,
              Math.abs(coarse.data[(s * 16 + y) * 16 + x]! - want),
            );
          }
      }
      assert.ok(worstFine < 1e-5 && worstCoarse < 1e-5, `${worstFine} ${worstCoarse}`);
    } finally {
      file.close();
    }
    await assert.rejects(
      buildDataset({ runs: [run], fields: ['n'], sizes: [16], from: 0, every: 1, heldOut: 0, out }),
      /has no field 'n' \(it has omega\)/,
    );
    await assert.rejects(
      buildDataset({
        runs: [run],
        fields: ['omega'],
        sizes: [64],
        from: 0,
        every: 1,
        heldOut: 0,
        out,
      }),
      /cannot refine a 32² field to 64²/,
    );
  });
});
