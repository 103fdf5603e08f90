/**
 * `flow eval` metrics, for several sample files side by side: identical fields score zero error;
 * Gaussian fields have kurtosis 3, skewness 0 and Gaussian increments (flatness 3 at every r); a
 * field with another spectrum is flagged in its spectrum and structure functions; the report,
 * plots, gallery and index.html are written; the straightness recorded by the sampler is carried;
 * the DNS's other split is scored against the reference as the error floor.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { evaluateSamples } from '../../src/flow/evaluate.ts';
import { sampleNoise } from '../../src/flow/noise.ts';
import { H5Writer } from '../../src/io/hdf5.ts';

async function write(
  path: string,
  name: string,
  data: Float32Array,
  count: number,
  n: number,
  attrs: Record<string, number | string> = {},
) {
  const w = await H5Writer.create(path, attrs);
  w.writeDataset(name, { data, shape: [count, n, n, 1] });
  await w.commit();
}

describe('flow eval', () => {
  it('scores spectra, one-point statistics and structure functions side by side', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flow-eval-'));
    const reference = sampleNoise({ tau: 6, alpha: 2.5 }, 32, 64, 1, 1);
    const same = sampleNoise({ tau: 6, alpha: 2.5 }, 32, 64, 1, 2);
    const other = sampleNoise({ tau: 2, alpha: 1.5 }, 32, 64, 1, 3);
    await write(join(dir, 'data.h5'), '/test/32', reference, 64, 32);
    await write(join(dir, 'self.h5'), '/samples', reference, 64, 32);
    await write(join(dir, 'same.h5'), '/samples', same, 64, 32, {
      method: 'rk4',
      nfe: 8,
      straightness: 0.25,
    });
    await write(join(dir, 'other.h5'), '/samples', other, 64, 32);
    const data = join(dir, 'data.h5');
    const report = await evaluateSamples({
      samples: ['self.h5', 'same.h5', 'other.h5'].map((f) => join(dir, f)),
      labels: ['self', 'same measure', 'other measure'],
      data,
      out: join(dir, 'e'),
    });
    assert.equal(report.split, 'test');
    assert.equal(report.splitFloor, null, 'a dataset without a train split has no floor');
    const [self, ok, bad] = report.runs.map((r) => r.channels[0]!);
    assert.equal(self!.errors.maxSpectrumError, 0);
    assert.equal(self!.errors.maxStructureError[2], 0);
    assert.equal(self!.errors.maxFlatnessError, 0);
    assert.equal(report.runs[1]!.straightness, 0.25);
    assert.equal(report.runs[1]!.nfe, 8);
    assert.equal(report.runs[0]!.straightness, null);
    const stats = ok!.stats;
    assert.ok(
      Math.abs(stats.kurtosis - 3) < 0.2 && Math.abs(stats.skewness) < 0.1,
      JSON.stringify(stats),
    );
    for (const f of ok!.structure.flatness) assert.ok(Math.abs(f - 3) < 0.15, `flatness ${f}`);
    assert.ok(ok!.errors.maxSpectrumError < 0.35, `same measure: ${ok!.errors.maxSpectrumError}`);
    assert.ok(ok!.errors.maxStructureError[2]! < 0.1, `${ok!.errors.maxStructureError[2]}`);
    assert.ok(bad!.errors.maxSpectrumError > 1, `other measure: ${bad!.errors.maxSpectrumError}`);
    assert.ok(bad!.errors.maxStructureError[2]! > 0.5, `${bad!.errors.maxStructureError[2]}`);
    for (const f of ['eval.json', 'spectrum-0.png', 'structure-0.png', 'flatness-0.png'])
      assert.ok(existsSync(join(dir, 'e', f)), f);
    assert.ok(
      existsSync(join(dir, 'e', 'gallery-0.png')) && existsSync(join(dir, 'e', 'index.html')),
    );
    await assert.rejects(
      evaluateSamples({
        samples: [join(dir, 'self.h5')],
        data: join(dir, 'same.h5'),
        out: join(dir, 'e4'),
      }),
      /has no test fields at 32²|no train fields at 32²/,
    );
  });

  it('scores the DNS train split against the test split as the floor, and the other way round', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flow-eval-floor-'));
    const test = sampleNoise({ tau: 6, alpha: 2.5 }, 32, 48, 1, 1);
    const train = sampleNoise({ tau: 6, alpha: 2.5 }, 32, 64, 1, 2);
    const w = await H5Writer.create(join(dir, 'data.h5'));
    w.writeDataset('/train/32', { data: train, shape: [64, 32, 32, 1] });
    w.writeDataset('/test/32', { data: test, shape: [48, 32, 32, 1] });
    await w.commit();
    await write(join(dir, 'train-copy.h5'), '/samples', train, 64, 32);
    const report = await evaluateSamples({
      samples: [join(dir, 'train-copy.h5')],
      data: join(dir, 'data.h5'),
      out: join(dir, 'e'),
    });
    assert.equal(report.split, 'test');
    assert.equal(report.splitFloor?.split, 'train');
    assert.equal(report.splitFloor?.count, 64);
    // Samples that are the training fields score exactly the floor.
    assert.deepEqual(report.splitFloor!.channels[0], report.runs[0]!.channels[0]!.errors);
    assert.ok(report.splitFloor!.channels[0]!.maxSpectrumError > 0);
    const reverse = await evaluateSamples({
      samples: [join(dir, 'train-copy.h5')],
      data: join(dir, 'data.h5'),
      split: 'train',
      out: join(dir, 'e2'),
    });
    assert.equal(reverse.splitFloor?.split, 'test');
    assert.equal(reverse.runs[0]!.channels[0]!.errors.maxSpectrumError, 0);
  });
});
