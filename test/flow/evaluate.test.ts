/**
 * `flow eval` metrics: identical fields score zero error; Gaussian fields have kurtosis 3 and
 * skewness 0; a field with another spectrum is flagged; the report and plots are written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { evaluateSamples } from '../../src/flow/evaluate.ts';
import { sampleNoise } from '../../src/flow/noise.ts';
import { H5Writer } from '../../src/io/hdf5.ts';

async function write(path: string, name: string, data: Float32Array, count: number, n: number) {
  const w = await H5Writer.create(path);
  w.writeDataset(name, { data, shape: [count, n, n, 1] });
  await w.commit();
}

describe('flow eval', () => {
  it('scores spectra and one-point statistics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flow-eval-'));
    const reference = sampleNoise({ tau: 6, alpha: 2.5 }, 32, 64, 1, 1);
    const same = sampleNoise({ tau: 6, alpha: 2.5 }, 32, 64, 1, 2);
    const other = sampleNoise({ tau: 2, alpha: 1.5 }, 32, 64, 1, 3);
    await write(join(dir, 'data.h5'), '/test/32', reference, 64, 32);
    await write(join(dir, 'self.h5'), '/samples', reference, 64, 32);
    await write(join(dir, 'same.h5'), '/samples', same, 64, 32);
    await write(join(dir, 'other.h5'), '/samples', other, 64, 32);
    const data = join(dir, 'data.h5');
    const self = await evaluateSamples({
      samples: join(dir, 'self.h5'),
      data,
      out: join(dir, 'e1'),
    });
    assert.equal(self.channels[0]!.maxSpectrumError, 0);
    assert.equal(self.split, 'test');
    const ok = await evaluateSamples({ samples: join(dir, 'same.h5'), data, out: join(dir, 'e2') });
    const stats = ok.channels[0]!.stats.samples;
    assert.ok(
      Math.abs(stats.kurtosis - 3) < 0.2 && Math.abs(stats.skewness) < 0.1,
      JSON.stringify(stats),
    );
    assert.ok(
      ok.channels[0]!.maxSpectrumError < 0.35,
      `same measure: ${ok.channels[0]!.maxSpectrumError}`,
    );
    const bad = await evaluateSamples({
      samples: join(dir, 'other.h5'),
      data,
      out: join(dir, 'e3'),
    });
    assert.ok(
      bad.channels[0]!.maxSpectrumError > 1,
      `other measure: ${bad.channels[0]!.maxSpectrumError}`,
    );
    assert.ok(
      existsSync(join(dir, 'e3', 'eval.json')) && existsSync(join(dir, 'e3', 'spectrum-0.png')),
    );
    await assert.rejects(
      evaluateSamples({
        samples: join(dir, 'self.h5'),
        data: join(dir, 'same.h5'),
        out: join(dir, 'e4'),
      }),
      /has no test fields at 32²|no train fields at 32²/,
    );
  });
});
