/**
 * Moving data between jax-js arrays and our own GPU buffers without a host round trip.
 *
 * jax-js exposes an array's buffer (`gpuBuffer()`, which consumes one reference) but offers no way
 * to wrap an external GPUBuffer as an Array. `toJaxArray` therefore allocates a fresh jax-js array,
 * realises its buffer and copies into it on the shared queue; the array is uniquely owned by the
 * caller, so jax-js never aliases it. Both directions are covered by test/runtime/jaxInterop.test.ts.
 */
import { type DType, type Array as JaxArray, numpy as np } from '@jax-js/jax';

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint32: 4, float16: 2 };

/**
 * The GPU buffer behind `array`, kept alive until `release()`: bind it in a CommandBatch, submit,
 * then release. Consumes the reference passed in (jax-js ownership rules).
 */
export async function borrowGpuBuffer(
  array: JaxArray,
): Promise<{ buffer: GPUBuffer; release: () => void }> {
  if (array.device !== 'webgpu') {
    throw new Error(`borrowGpuBuffer needs a webgpu array, got one on '${array.device}'`);
  }
  const keep = array.ref;
  const buffer = await array.gpuBuffer();
  return { buffer, release: () => keep.dispose() };
}

/** A new webgpu jax-js array of `shape` holding a copy of `src` (from `srcOffset`). */
export async function toJaxArray(
  device: GPUDevice,
  src: GPUBuffer,
  shape: number[],
  dtype: DType = 'float32' as DType,
  srcOffset = 0,
): Promise<JaxArray> {
  const itemBytes = BYTES[dtype];
  if (!itemBytes) throw new Error(`toJaxArray: unsupported dtype '${dtype}'`);
  const bytes = Math.ceil((shape.reduce((a, b) => a * b, 1) * itemBytes) / 4) * 4;
  if (srcOffset + bytes > src.size) {
    throw new Error(
      `toJaxArray: ${bytes} bytes from offset ${srcOffset} overrun a ${src.size}-byte buffer`,
    );
  }
  const out = np.zeros(shape, { dtype, device: 'webgpu' });
  const dst = await out.ref.gpuBuffer();
  const encoder = device.createCommandEncoder({ label: 'toJaxArray' });
  encoder.copyBufferToBuffer(src, srcOffset, dst, 0, bytes);
  device.queue.submit([encoder.finish()]);
  return out;
}
