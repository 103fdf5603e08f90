/**
 * Memory-bandwidth measurements that set the rooflines driftflow's kernels are judged against:
 * a streaming WGSL kernel (read once, write once) and the host-to-GPU copy paths
 * (`queue.writeBuffer` vs a pre-filled `MAP_WRITE` buffer + `copyBufferToBuffer`), plus readback.
 * On the wasm device the stream runs as a jitted jax-js multiply, the CPU's equivalent.
 */
import * as jax from '@jax-js/jax';
import { createStorageBuffer, createUniformBuffer, HostBuffer, readBuffer } from './buffers.ts';
import { CommandBatch, GpuTimer, workgroupsFor } from './commands.ts';
import type { ComputeDevice } from './device.ts';
import { getKernel, loadWgsl } from './kernels.ts';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const GB = 1e9;

export interface StreamResult {
  bytesPerBuffer: number;
  repeats: number;
  /** Dispatches per timed pass (GPU timestamps); the median is per dispatch. */
  dispatchesPerPass: number;
  timing: 'gpu-timestamps' | 'wall-clock';
  medianMs: number;
  /** (read + write bytes) / median time. */
  gbps: number;
  verified: boolean;
}

const STREAM_WORKGROUP = 256;
const DISPATCHES_PER_PASS = 10;

function streamResult(
  count: number,
  repeats: number,
  dispatchesPerPass: number,
  timing: StreamResult['timing'],
  medianMs: number,
  verified: boolean,
): StreamResult {
  const gbps = (8 * count) / (medianMs / 1e3) / GB;
  return {
    bytesPerBuffer: 4 * count,
    repeats,
    dispatchesPerPass,
    timing,
    medianMs,
    gbps,
    verified,
  };
}

/** Streams `bytes` through `dst = 2.5 * src`, `repeats` times; returns the median rate. */
export async function measureStream(
  device: ComputeDevice,
  bytes: number,
  repeats: number,
): Promise<StreamResult> {
  const count = Math.floor(bytes / 16) * 4;
  if (device.kind === 'wasm') return measureWasmStream(count, repeats);
  const gpu = device.gpu;
  const kernel = await getKernel(gpu, {
    code: await loadWgsl('./wgsl/scale.wgsl', import.meta.url),
    constants: { WORKGROUP_SIZE: STREAM_WORKGROUP },
    label: 'stream scale',
  });
  const src = createStorageBuffer(gpu, 4 * count, 'stream src');
  const dst = createStorageBuffer(gpu, 4 * count, 'stream dst');
  const ones = new Float32Array(1 << 20).fill(1);
  for (let at = 0; at < 4 * count; at += ones.byteLength) {
    gpu.queue.writeBuffer(src, at, ones, 0, Math.min(ones.length, count - at / 4));
  }
  const params = new ArrayBuffer(16);
  new Uint32Array(params)[0] = count / 4;
  new Float32Array(params)[1] = 2.5;
  const uniform = createUniformBuffer(gpu, new Uint8Array(params));
  const groups = workgroupsFor(
    count / 4,
    STREAM_WORKGROUP,
    gpu.limits.maxComputeWorkgroupsPerDimension,
  );
  const dispatch = () =>
    new CommandBatch(gpu).dispatch(kernel, [src, dst, uniform], groups).submit();
  try {
    let medianMs: number;
    let dispatchesPerPass = 1;
    let timing: StreamResult['timing'] = 'wall-clock';
    if (GpuTimer.supported(gpu)) {
      dispatch(); // warm-up
      timing = 'gpu-timestamps';
      dispatchesPerPass = DISPATCHES_PER_PASS;
      const timer = new GpuTimer(gpu, repeats);
      const batch = new CommandBatch(gpu, timer);
      for (let r = 0; r < repeats; r++) {
        batch.beginPass(`stream ${r}`);
        for (let d = 0; d < dispatchesPerPass; d++) {
          batch.dispatch(kernel, [src, dst, uniform], groups);
        }
      }
      batch.submit();
      medianMs = median((await timer.read()).map((p) => p.ms / dispatchesPerPass));
      timer.destroy();
    } else {
      medianMs = await timeMs(repeats, async () => {
        dispatch();
        await gpu.queue.onSubmittedWorkDone();
      });
    }
    const head = new Float32Array(await readBuffer(gpu, dst, 16));
    const tail = new Float32Array(await readBuffer(gpu, dst, 16, 4 * count - 16));
    const verified = [...head, ...tail].every((v) => v === 2.5);
    return streamResult(count, repeats, dispatchesPerPass, timing, medianMs, verified);
  } finally {
    for (const buffer of [src, dst, uniform]) buffer.destroy();
  }
}

async function measureWasmStream(count: number, repeats: number): Promise<StreamResult> {
  const np = jax.numpy;
  const x = np.ones([count], { device: 'wasm' });
  const scale = jax.jit((v: jax.Array) => v.mul(2.5));
  const times: number[] = [];
  let verified = false;
  for (let r = 0; r <= repeats; r++) {
    const start = performance.now();
    const y = await scale(x.ref).blockUntilReady();
    const ms = performance.now() - start;
    if (r > 0) times.push(ms); // r = 0 compiles
    if (r === repeats) verified = (await y.slice([0, 4]).data()).every((v) => v === 2.5);
    else y.dispose();
  }
  x.dispose();
  scale.dispose();
  return streamResult(count, repeats, 1, 'wall-clock', median(times), verified);
}

export interface CopyResult {
  bytes: number;
  repeats: number;
  /** `queue.writeBuffer` from a JS array, until the GPU has it. */
  writeBufferGbps: number;
  /** `copyBufferToBuffer` from an already-filled MAP_WRITE buffer. */
  mappedCopyGbps: number;
  /** Filling the mapped buffer from JS (`Uint8Array.set`). */
  mappedFillGbps: number;
  /** GPU buffer to host through a MAP_READ staging buffer. */
  readbackGbps: number;
  verified: boolean;
}

async function timeMs(repeats: number, once: () => Promise<void>): Promise<number> {
  await once(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await once();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Host-to-GPU and GPU-to-host copy rates for `bytes` (wall-clock, until the queue is done). */
export async function measureCopies(
  gpu: GPUDevice,
  bytes: number,
  repeats: number,
): Promise<CopyResult> {
  const size = Math.floor(bytes / 4) * 4;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) data[i] = (i >> 12) & 0xff;
  const dst = createStorageBuffer(gpu, size, 'copy dst');
  const host = new HostBuffer(gpu, size, 'copy host');
  try {
    const writeMs = await timeMs(repeats, async () => {
      gpu.queue.writeBuffer(dst, 0, data);
      await gpu.queue.onSubmittedWorkDone();
    });
    const fillStart = performance.now();
    host.write(0, data);
    const fillMs = performance.now() - fillStart;
    host.seal();
    const copyMs = await timeMs(repeats, async () => {
      new CommandBatch(gpu).copy(host.buffer, 0, dst, 0, size).submit();
      await gpu.queue.onSubmittedWorkDone();
    });
    let back = new Uint8Array(0);
    const readMs = await timeMs(repeats, async () => {
      back = new Uint8Array(await readBuffer(gpu, dst, size));
    });
    let verified = back.length === size;
    for (let i = 0; verified && i < size; i += 4096) verified = back[i] === data[i];
    const rate = (ms: number) => size / (ms / 1e3) / GB;
    return {
      bytes: size,
      repeats,
      writeBufferGbps: rate(writeMs),
      mappedCopyGbps: rate(copyMs),
      mappedFillGbps: rate(fillMs),
      readbackGbps: rate(readMs),
      verified,
    };
  } finally {
    dst.destroy();
    host.destroy();
  }
}
