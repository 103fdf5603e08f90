/**
 * GPU buffer helpers shared by every kernel user: creation with explicit usage, uploads, readback
 * through a MAP_READ staging buffer, and host-visible upload buffers.
 *
 * Measured on the H100 (shared/gpu/README.md): `queue.writeBuffer` moves about 1 GB/s, while a
 * `MAP_WRITE | COPY_SRC` buffer filled once and copied with `copyBufferToBuffer` reaches the PCIe
 * rate (48-50 GB/s). Data that moves often (offloaded experts) therefore lives in `HostBuffer`s.
 */

/** A function, not a constant: in Node `GPUBufferUsage` exists only once Dawn's globals are installed. */
export function storageUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

/** Rounds a byte size up to a multiple of 4 (WebGPU copy and binding granularity). */
export function align4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

export function createStorageBuffer(device: GPUDevice, bytes: number, label?: string): GPUBuffer {
  return device.createBuffer({
    size: align4(Math.max(4, bytes)),
    usage: storageUsage(),
    ...(label ? { label } : {}),
  });
}

/** A storage buffer holding `data` (uploaded at creation through a mapped range). */
export function createBufferFrom(
  device: GPUDevice,
  data: ArrayBufferView,
  usage = storageUsage(),
  label?: string,
): GPUBuffer {
  const buffer = device.createBuffer({
    size: align4(Math.max(4, data.byteLength)),
    usage,
    mappedAtCreation: true,
    ...(label ? { label } : {}),
  });
  new Uint8Array(buffer.getMappedRange()).set(
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  );
  buffer.unmap();
  return buffer;
}

/** A uniform buffer with `data`, to be rewritten with `queue.writeBuffer` when parameters change. */
export function createUniformBuffer(
  device: GPUDevice,
  data: ArrayBufferView,
  label?: string,
): GPUBuffer {
  return createBufferFrom(device, data, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label);
}

/** Copies `bytes` of `src` (from `offset`) back to the host. Waits for all queued GPU work. */
export async function readBuffer(
  device: GPUDevice,
  src: GPUBuffer,
  bytes = src.size,
  offset = 0,
): Promise<ArrayBuffer> {
  const size = align4(bytes);
  const staging = device.createBuffer({
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(src, offset, staging, 0, size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange().slice(0, bytes);
  } finally {
    staging.destroy();
  }
}

export async function readFloat32(
  device: GPUDevice,
  src: GPUBuffer,
  count?: number,
): Promise<Float32Array> {
  const bytes = count === undefined ? src.size : 4 * count;
  return new Float32Array(await readBuffer(device, src, bytes));
}

/**
 * A host-visible `MAP_WRITE | COPY_SRC` buffer: filled from JS while mapped, then copied to GPU
 * buffers with `copyBufferToBuffer` at PCIe speed, any number of times.
 */
export class HostBuffer {
  readonly buffer: GPUBuffer;
  #view: Uint8Array | null;

  constructor(
    readonly device: GPUDevice,
    readonly size: number,
    label = 'host buffer',
  ) {
    this.buffer = device.createBuffer({
      label,
      size: align4(size),
      usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC,
      mappedAtCreation: true,
    });
    this.#view = new Uint8Array(this.buffer.getMappedRange());
  }

  /** The mapped bytes, for filling in place (e.g. `fs.read` straight into it); null when sealed. */
  get mapped(): Uint8Array | null {
    return this.#view;
  }

  /** Writes bytes at `offset` while mapped (call `seal()` before copying from the buffer). */
  write(offset: number, data: ArrayBufferView): void {
    if (!this.#view) throw new Error('HostBuffer is sealed: call remap() before writing again');
    this.#view.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
  }

  /** Unmaps so the GPU may copy from it. */
  seal(): void {
    if (this.#view) this.buffer.unmap();
    this.#view = null;
  }

  /** Maps again for writing (waits until the GPU no longer reads it). */
  async remap(): Promise<void> {
    if (this.#view) return;
    await this.buffer.mapAsync(GPUMapMode.WRITE);
    this.#view = new Uint8Array(this.buffer.getMappedRange());
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
