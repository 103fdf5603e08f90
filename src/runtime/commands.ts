/**
 * Records many kernel dispatches and copies into one command encoder and submits once: the per-submit
 * CPU cost under Dawn is what makes jax-js slow for time-stepping (one submit per op), so a solver
 * step or a model layer is one `CommandBatch`.
 *
 * With a `GpuTimer`, every compute pass gets begin/end timestamps; `await timer.read()` after the
 * submit returns the GPU time of each labelled pass.
 */
import type { Binding, Kernel } from './kernels.ts';

export type Workgroups = number | readonly [number, number?, number?];

export class GpuTimer {
  readonly #querySet: GPUQuerySet;
  readonly #resolve: GPUBuffer;
  readonly #readback: GPUBuffer;
  readonly #labels: string[] = [];

  /** `capacity` is the number of passes that can be timed per submit. */
  constructor(
    readonly device: GPUDevice,
    readonly capacity = 64,
  ) {
    if (!device.features.has('timestamp-query')) {
      throw new Error(
        "this device has no 'timestamp-query' feature: time with wall clocks instead",
      );
    }
    this.#querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
    const size = 16 * capacity;
    const usage = GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC;
    this.#resolve = device.createBuffer({ size, usage });
    this.#readback = device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  static supported(device: GPUDevice): boolean {
    return device.features.has('timestamp-query');
  }

  /** Timestamp writes for the next pass (internal to CommandBatch). */
  passWrites(label: string): GPUComputePassTimestampWrites {
    const index = this.#labels.length;
    if (index >= this.capacity) throw new Error(`GpuTimer capacity ${this.capacity} exceeded`);
    this.#labels.push(label);
    return {
      querySet: this.#querySet,
      beginningOfPassWriteIndex: 2 * index,
      endOfPassWriteIndex: 2 * index + 1,
    };
  }

  /** Adds the resolve + copy to `encoder` (internal to CommandBatch). */
  resolveInto(encoder: GPUCommandEncoder): void {
    const count = 2 * this.#labels.length;
    if (count === 0) return;
    encoder.resolveQuerySet(this.#querySet, 0, count, this.#resolve, 0);
    encoder.copyBufferToBuffer(this.#resolve, 0, this.#readback, 0, 8 * count);
  }

  /** GPU milliseconds per timed pass of the last submit, in order; resets for the next batch. */
  async read(): Promise<{ label: string; ms: number }[]> {
    const count = 2 * this.#labels.length;
    await this.#readback.mapAsync(GPUMapMode.READ, 0, 8 * count);
    const stamps = new BigInt64Array(this.#readback.getMappedRange(0, 8 * count).slice(0));
    this.#readback.unmap();
    const passes = this.#labels.map((label, i) => ({
      label,
      ms: Number(stamps[2 * i + 1]! - stamps[2 * i]!) / 1e6,
    }));
    this.#labels.length = 0;
    return passes;
  }

  destroy(): void {
    this.#querySet.destroy();
    this.#resolve.destroy();
    this.#readback.destroy();
  }
}

export class CommandBatch {
  readonly encoder: GPUCommandEncoder;
  #pass: GPUComputePassEncoder | null = null;
  #dispatches = 0;

  constructor(
    readonly device: GPUDevice,
    readonly timer?: GpuTimer,
    label = 'driftflow batch',
  ) {
    this.encoder = device.createCommandEncoder({ label });
  }

  get dispatchCount(): number {
    return this.#dispatches;
  }

  /** Starts a new compute pass (timed separately when a timer is attached). */
  beginPass(label = 'pass'): this {
    this.endPass();
    const timestampWrites = this.timer?.passWrites(label);
    this.#pass = this.encoder.beginComputePass({
      label,
      ...(timestampWrites ? { timestampWrites } : {}),
    });
    return this;
  }

  endPass(): void {
    this.#pass?.end();
    this.#pass = null;
  }

  /**
   * Records a dispatch of `kernel` on `bindings` (group 0, in binding order), or on a bind group
   * made beforehand with kernel.bindGroup (hot loops: skips the cache lookup).
   */
  dispatch(
    kernel: Kernel,
    bindings: readonly Binding[] | GPUBindGroup,
    workgroups: Workgroups,
  ): this {
    if (!this.#pass) this.beginPass(kernel.label);
    const pass = this.#pass!;
    const [x, y = 1, z = 1] = typeof workgroups === 'number' ? [workgroups] : workgroups;
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(
      0,
      Array.isArray(bindings) ? kernel.bindGroup(bindings) : (bindings as GPUBindGroup),
    );
    pass.dispatchWorkgroups(x, y, z);
    this.#dispatches++;
    return this;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): this {
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
    return this;
  }

  /** Ends the open pass, resolves timestamps and submits everything in one queue submission. */
  submit(): void {
    this.endPass();
    this.timer?.resolveInto(this.encoder);
    this.device.queue.submit([this.encoder.finish()]);
  }
}

/** Number of workgroups of `size` threads covering `count` items, capped at the dispatch limit. */
export function workgroupsFor(count: number, size: number, max = 65535): number {
  return Math.max(1, Math.min(max, Math.ceil(count / size)));
}
