// openDevice: explicit choices, the reported trail, and clear errors for bad preferences.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceLabel, openDevice } from '../../src/runtime/device.ts';
import { webGpuOrSkip } from '../helpers/devices.ts';

const { gpu, skip } = await webGpuOrSkip();

describe('openDevice', () => {
  it('opens the wasm CPU device on request', async () => {
    const device = await openDevice({ prefer: 'wasm' });
    assert.equal(device.kind, 'wasm');
    assert.ok(device.kind === 'wasm' && device.threads >= 1);
    assert.match(deviceLabel(device), /^wasm \(CPU, \d+ threads\)$/);
  });

  it('rejects an unknown preference, naming the accepted ones', async () => {
    await assert.rejects(
      openDevice({ prefer: 'cuda' as never }),
      /unknown device 'cuda': use one of auto, webgpu, wasm/,
    );
  });

  it('auto never returns a software adapter unless allowed, and says why', async () => {
    const device = await openDevice({ prefer: 'auto' });
    if (device.kind === 'webgpu') assert.equal(device.adapter.software, false);
    else assert.ok(device.trail.length > 0, 'a CPU fallback must explain what was not chosen');
  });
});

describe('openDevice on webgpu', { skip }, () => {
  it('reports the adapter, features and limits of the device jax-js shares', async () => {
    assert.ok(gpu);
    assert.ok(gpu.adapter.backend.length > 0);
    assert.ok(gpu.limits.maxStorageBufferBindingSize! >= 128 << 20);
    assert.ok(gpu.limits.maxComputeInvocationsPerWorkgroup! >= 256);
    for (const feature of gpu.features) assert.ok(gpu.gpu.features.has(feature));
  });
});
