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

/**
 * The radices of fft_shared's passes for 2^bits points (stage_log_radix in spectral_common.wgsl):
 * ceil(bits / 3) passes of radix at most 8, the bits spread evenly, larger radices first.
 */
export function fftPlan(bits: number): number[] {
  const passes = Math.ceil(bits / 3);
  return Array.from(
    { length: passes },
    (_, stage) => 2 ** (Math.floor(bits / passes) + (stage < bits % passes ? 1 : 0)),
  );
}

/** Smallest radix fft_shared uses for 2^bits points: each pass needs count·n / radix threads. */
export function smallestRadix(bits: number): number {
  return bits === 0 ? 1 : Math.min(...fftPlan(bits));
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
