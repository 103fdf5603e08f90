// The bandwidth measurements behind `npm start` and `npm run bench -- stream` produce verified
// results on every device (numbers themselves are benchmarks, not tested here).
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as jax from '@jax-js/jax';
import { measureCopies, measureStream, median } from '../../src/runtime/bandwidth.ts';
import { testDevices, webGpuOrSkip } from '../helpers/devices.ts';

const devices = await testDevices();
const { gpu, skip } = await webGpuOrSkip();

it('median', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

for (const { name, device, skip } of devices) {
  describe(`stream on ${name}`, { skip }, () => {
    beforeEach(() => jax.defaultDevice(name));
    it('streams and verifies the output', async () => {
      const result = await measureStream(device!, 1 << 20, 2);
      assert.equal(result.verified, true);
      assert.equal(result.bytesPerBuffer, 1 << 20);
      assert.ok(result.gbps > 0 && Number.isFinite(result.gbps));
    });
  });
}

describe('host<->GPU copies', { skip }, () => {
  it('every copy path delivers the bytes', async () => {
    const result = await measureCopies(gpu!.gpu, 1 << 20, 2);
    assert.equal(result.verified, true);
    for (const key of ['writeBufferGbps', 'mappedCopyGbps', 'readbackGbps'] as const) {
      assert.ok(result[key] > 0, key);
    }
  });
});
