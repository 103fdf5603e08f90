// jax-js on every device: jit, grad and rfft2 against analytic or float64 references, and moving
// arrays between jax-js and our own GPU buffers (webgpu only).
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as jax from '@jax-js/jax';
import { createBufferFrom, readFloat32 } from '../../src/runtime/buffers.ts';
import { borrowGpuBuffer, toJaxArray } from '../../src/runtime/jaxInterop.ts';
import { assertAllclose } from '../helpers/allclose.ts';
import { testDevices, webGpuOrSkip } from '../helpers/devices.ts';

const np = jax.numpy;
const devices = await testDevices();
const { gpu, skip } = await webGpuOrSkip();

for (const { name, device: opened, skip } of devices) {
  // Mesa's llvmpipe stops any shader loop after 65535 iterations (gallivm's loop cap), and jax-js
  // reduces a 1-D sum in one thread's loop: such sums are wrong there and right on real GPUs.
  const softwareLoopCap =
    opened?.kind === 'webgpu' && opened.adapter.software
      ? 'llvmpipe caps shader loops at 65535 iterations'
      : false;
  describe(`jax-js on ${name}`, { skip }, () => {
    const device = name;
    // jax-js creates FFT intermediates on the default device: it must match the arrays' device.
    beforeEach(() => jax.defaultDevice(device));

    it('jit(f) equals the eager result and the TS reference', async () => {
      const f = jax.jit((x: jax.Array) => np.sin(x.ref).mul(x).add(1));
      const values = Float32Array.from({ length: 1000 }, (_, i) => i / 100 - 5);
      const y = (await f(np.array(values, { device })).data()) as Float32Array;
      f.dispose();
      assertAllclose(
        y,
        values.map((v) => Math.sin(v) * v + 1),
        { rtol: 1e-5, atol: 1e-5 },
      );
    });

    it('grad of sum(x^3) is 3x^2', async () => {
      const df = jax.grad((x: jax.Array) => np.sum(x.ref.mul(x.ref).mul(x)));
      const values = Float32Array.from([-2, -0.5, 0, 1, 3]);
      const g = (await df(np.array(values, { device })).data()) as Float32Array;
      assertAllclose(
        g,
        values.map((v) => 3 * v * v),
        { rtol: 1e-6 },
      );
    });

    it('sum over 100k elements', { skip: softwareLoopCap }, async () => {
      const [total] = (await np.sum(np.ones([100_000], { device })).data()) as Float32Array;
      assert.equal(total, 100_000);
    });

    it('rfft2 of a single Fourier mode is one spike', async () => {
      const n = 32;
      const [kx, ky] = [3, 5];
      const field = Float32Array.from({ length: n * n }, (_, i) =>
        Math.cos((2 * Math.PI * (kx * (i % n) + ky * Math.floor(i / n))) / n),
      );
      const { real, imag } = np.fft.rfft2(np.array(field, { shape: [n, n], device }));
      const re = (await real.data()) as Float32Array;
      const im = (await imag.data()) as Float32Array;
      const width = n / 2 + 1;
      const expected = new Float32Array(n * width);
      expected[ky * width + kx] = (n * n) / 2;
      assertAllclose(re, expected, { atol: 2e-3, what: 'real part' });
      assertAllclose(im, new Float32Array(n * width), { atol: 2e-3, what: 'imaginary part' });
    });
  });
}

describe('jax-js <-> WGSL buffers on webgpu', { skip }, () => {
  it('toJaxArray copies a GPU buffer into a jax-js array', async () => {
    const values = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.cos(i));
    const source = createBufferFrom(gpu!.gpu, values);
    const array = await toJaxArray(gpu!.gpu, source, [64, 48]);
    assert.deepEqual(array.shape, [64, 48]);
    assertAllclose((await array.data()) as Float32Array, values, { rtol: 0, atol: 0 });
  });

  it('borrowGpuBuffer exposes a jax-js result to WGSL and keeps it alive', async () => {
    const x = np.arange(16, undefined, undefined, { dtype: np.float32, device: 'webgpu' }).mul(3);
    const { buffer, release } = await borrowGpuBuffer(x);
    const seen = await readFloat32(gpu!.gpu, buffer, 16);
    release();
    assertAllclose(
      seen,
      Float32Array.from({ length: 16 }, (_, i) => 3 * i),
      { rtol: 0, atol: 0 },
    );
  });
});
