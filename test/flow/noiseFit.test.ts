// The noise-measure fit recovers the (τ, α) of Gaussian fields drawn from the measure itself, per
// channel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleNoise } from '../../src/flow/noise.ts';
import { fitNoiseMeasure } from '../../src/flow/noiseFit.ts';

describe('noise measure fitted to data', () => {
  for (const truth of [
    { tau: 3, alpha: 2 },
    { tau: 25, alpha: 1.6 },
    { tau: 60, alpha: 3 },
  ])
    it(`recovers tau ${truth.tau}, alpha ${truth.alpha} from 48 of its own 64² samples (2 channels)`, () => {
      const fields = sampleNoise(truth, 64, 48, 2, 11);
      for (const fit of fitNoiseMeasure(fields, 48, 64, 2)) {
        assert.ok(Math.abs(fit.alpha - truth.alpha) <= 0.1, JSON.stringify(fit));
        assert.ok(Math.abs(Math.log(fit.tau / truth.tau)) < Math.log(1.25), JSON.stringify(fit));
        assert.ok(fit.rmsLogError < 0.1, JSON.stringify(fit));
      }
    });

  it('fits each channel its own measure (channels drawn from different measures)', () => {
    const measures = [
      { tau: 5, alpha: 1.5 },
      { tau: 40, alpha: 2.5 },
    ];
    const fits = fitNoiseMeasure(sampleNoise(measures, 64, 48, 2, 5), 48, 64, 2);
    fits.forEach((fit, c) => {
      assert.ok(Math.abs(fit.alpha - measures[c]!.alpha) <= 0.1, JSON.stringify(fits));
      assert.ok(
        Math.abs(Math.log(fit.tau / measures[c]!.tau)) < Math.log(1.25),
        JSON.stringify(fits),
      );
    });
  });

  it('refuses fields without power in some shell', () => {
    assert.throws(
      () => fitNoiseMeasure(new Float32Array(2 * 32 * 32), 2, 32, 1),
      /power in every shell/,
    );
  });
});
