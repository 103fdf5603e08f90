/**
 * The pieces of the WGSL FFT (fft_shared in wgsl/spectral_common.wgsl) the host needs: the
 * twiddle tables, the smallest radix it uses (which sets the workgroup size), and a batch
 * transform that runs it on its own so tests can compare it with the float64 FFT.
 */
import { createBufferFrom, readBuffer } from '../runtime/buffers.ts';
import { CommandBatch } from '../runtime/commands.ts';
import { getKernel, loadWgsl } from '../runtime/kernels.ts';

/** exp(−2πik/n) for k < count, computed in float64 and stored as interleaved f32. */
export function fftTwiddles(n: number, count = n): Float32Array {
  const data = new Float32Array(2 * count);
  for (let k = 0; k < count; k++) {
    data[2 * k] = Math.cos((2 * Math.PI * k) / n);
    data[2 * k + 1] = -Math.sin((2 * Math.PI * k) / n);
  }
  return data;
}

/** Smallest radix fft_shared uses for 2^bits points (one lead pass of 2^(bits mod 3), then 8s). */
export function smallestRadix(bits: number): number {
  if (bits < 3) return 2 ** bits;
  return bits % 3 === 2 ? 4 : 8;
}

/**
 * Unnormalised in-place FFTs of `data.length / (2n)` sequences of n complex values (interleaved
 * f32) on the GPU, one workgroup per sequence. n is a power of two with 8.5·n bytes of workgroup
 * memory available.
 */
export async function gpuFftBatch(
  gpu: GPUDevice,
  data: Float32Array,
  n: number,
  inverse: boolean,
): Promise<Float32Array> {
  const bits = Math.log2(n);
  const code = await Promise.all(
    ['spectral_common.wgsl', 'fft_batch.wgsl'].map((f) => loadWgsl(`./wgsl/${f}`, import.meta.url)),
  );
  const kernel = await getKernel(gpu, {
    code: code.join('\n'),
    label: 'fft batch',
    constants: {
      WG: Math.max(64, n / smallestRadix(bits)),
      SHARED: n + n / 16,
      BITS: bits,
      INVERSE: inverse ? 1 : 0,
    },
  });
  const tw = createBufferFrom(gpu, fftTwiddles(n));
  const buffer = createBufferFrom(gpu, data);
  const batch = new CommandBatch(gpu, undefined, 'fft batch');
  batch.dispatch(kernel, [tw, buffer], data.length / (2 * n));
  batch.submit();
  const out = new Float32Array(await readBuffer(gpu, buffer, data.byteLength));
  tw.destroy();
  buffer.destroy();
  return out;
}
