/**
 * `stream`: achieved memory bandwidth of the streaming WGSL kernel (or jitted jax-js on wasm) and
 * host<->GPU copy rates by method. Targets on the H100: >= 2.5 TB/s streaming, >= 45 GB/s for the
 * mapped-buffer copy. Default sizes: 256 MiB on a hardware GPU, 16 MiB on CPU/software adapters.
 */
import { measureCopies, measureStream } from '../src/runtime/bandwidth.ts';
import type { Benchmark } from './registry.ts';

const MiB = 1 << 20;

export const streamBenchmark: Benchmark = async (device, settings) => {
  const hardware = device.kind === 'webgpu' && !device.adapter.software;
  const sizeMib = settings.sizeMib ?? (hardware ? 256 : 16);
  const repeats = settings.repeats ?? (hardware ? 50 : 5);
  const stream = await measureStream(device, sizeMib * MiB, repeats);
  const copies =
    device.kind === 'webgpu' ? await measureCopies(device.gpu, sizeMib * MiB, repeats) : null;
  return {
    params: { sizeMib, repeats },
    results: {
      stream,
      copies,
      targets: { streamGbps: 2500, mappedCopyGbps: 45, note: 'H100 targets' },
    },
  };
};
