/**
 * Routed experts' memory: the host tier (one `HostBuffer` per expert, `MAP_WRITE | COPY_SRC`,
 * filled once at load straight from the checkpoint's byte ranges) and the GPU slots the cache
 * policy fills from it with `copyBufferToBuffer` (per layer, or one pool every layer points at). In `gpu-only` mode (policy all-gpu) there is no
 * host tier: a layer's experts are uploaded once, side by side, into as few chunk buffers as the
 * storage-binding limit allows (slot = expert), so one dispatch per chunk can run whichever experts
 * the router picked on the GPU, without the host reading the routes.
 */
import { HostBuffer, storageUsage } from '../runtime/buffers.ts';
import type { CommandBatch } from '../runtime/commands.ts';
import { expertBytes } from './config.ts';
import type { CacheLayout } from './expertCache.ts';
import type { WeightSource } from './weights.ts';

/** Where a slot's weights are: a buffer and the u32-word offset of its gate rows. */
export interface SlotLocation {
  buffer: GPUBuffer;
  wordOffset: number;
}

/** A gpu-only chunk: experts first .. first+count-1 of a layer, side by side. */
export interface ExpertChunk {
  buffer: GPUBuffer;
  first: number;
  count: number;
}

export class ExpertTier {
  private constructor(
    readonly expertBytes: number,
    /** host[layer][expert], empty in gpu-only mode and for dense layers. */
    private readonly host: HostBuffer[][],
    /** host mode: slots[layer][slot], one buffer each; gpu-only: empty. */
    private readonly slots: GPUBuffer[][],
    /** gpu-only mode: chunks[layer], empty in host mode. */
    private readonly chunkList: ExpertChunk[][],
  ) {}

  static async load(
    device: GPUDevice,
    weights: WeightSource,
    mode: 'gpu-only' | 'host',
    layout: CacheLayout,
    onLoad?: (done: number, total: number) => void,
    /** gpu-only: largest chunk (default: the device's storage-binding limit). */
    chunkBytes = device.limits.maxStorageBufferBindingSize,
  ): Promise<ExpertTier> {
    const spec = weights.spec;
    const bytes = expertBytes(spec);
    const count = bytes / 2;
    const moe = spec.layerKinds.map((k) => k === 'moe');
    const total = moe.filter(Boolean).length * spec.numExperts;
    let done = 0;
    const host: HostBuffer[][] = [];
    const slots: GPUBuffer[][] = [];
    const chunks: ExpertChunk[][] = [];
    // gpu-only: chunks of at most maxStorageBufferBindingSize, evenly filled.
    const perBinding = Math.floor(chunkBytes / bytes);
    if (mode === 'gpu-only' && perBinding < 1) {
      throw new Error(`one expert (${bytes} bytes) exceeds the device's storage binding limit`);
    }
    const chunkCount = Math.ceil(spec.numExperts / Math.max(1, perBinding));
    const perChunk = Math.ceil(spec.numExperts / chunkCount);
    for (let l = 0; l < spec.layers; l++) {
      host.push([]);
      slots.push([]);
      chunks.push([]);
      if (!moe[l]) continue;
      if (mode === 'gpu-only') {
        for (let first = 0; first < spec.numExperts; first += perChunk) {
          const n = Math.min(perChunk, spec.numExperts - first);
          const buffer = device.createBuffer({
            label: `experts ${l}.${first}-${first + n - 1}`,
            size: n * bytes,
            usage: storageUsage(),
            mappedAtCreation: true,
          });
          for (let i = 0; i < n; i++) {
            const range = buffer.getMappedRange(i * bytes, bytes);
            await weights.readExpertF16(l, first + i, new Uint16Array(range, 0, count));
            onLoad?.(++done, total);
          }
          buffer.unmap();
          chunks[l]!.push({ buffer, first, count: n });
        }
        continue;
      }
      for (let e = 0; e < spec.numExperts; e++) {
        const buffer = new HostBuffer(device, bytes, `host expert ${l}.${e}`);
        const mapped = buffer.mapped!;
        await weights.readExpertF16(l, e, new Uint16Array(mapped.buffer, mapped.byteOffset, count));
        buffer.seal();
        host[l]!.push(buffer);
        onLoad?.(++done, total);
      }
      // A shared pool: every MoE layer's slot list is the same buffers.
      const owned = layout.shared ? slots.find((list) => list.length > 0) : undefined;
      if (owned) {
        slots[l] = owned;
        continue;
      }
      for (let s = 0; s < layout.slots; s++) {
        slots[l]!.push(
          device.createBuffer({
            label: layout.shared ? `expert pool slot ${s}` : `expert slot ${l}.${s}`,
            size: bytes,
            usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
          }),
        );
      }
    }
    return new ExpertTier(bytes, host, slots, chunks);
  }

  /** gpu-only mode: the chunks of a layer's experts (empty in host mode). */
  chunks(layer: number): ExpertChunk[] {
    return this.chunkList[layer]!;
  }

  slot(layer: number, slot: number): SlotLocation {
    const chunk = this.chunkList[layer]!.find((c) => slot >= c.first && slot < c.first + c.count);
    if (chunk) {
      return { buffer: chunk.buffer, wordOffset: ((slot - chunk.first) * this.expertBytes) / 4 };
    }
    return { buffer: this.slots[layer]![slot]!, wordOffset: 0 };
  }
  /** Records the copy of an expert from the host tier into a GPU slot; returns bytes moved. */
  copyIn(batch: CommandBatch, layer: number, expert: number, slot: number): number {
    const source = this.host[layer]?.[expert];
    if (!source)
      throw new Error(`expert ${layer}.${expert} has no host copy (all-gpu policy misses?)`);
    batch.copy(source.buffer, 0, this.slots[layer]![slot]!, 0, this.expertBytes);
    return this.expertBytes;
  }

  /** GPU bytes held by expert slots. */
  get gpuBytes(): number {
    const chunked = this.chunkList.flat().reduce((a, c) => a + c.buffer.size, 0);
    return chunked + this.#slotBuffers().size * this.expertBytes;
  }

  /** Each slot buffer once (a shared pool appears in every layer's list). */
  #slotBuffers(): Set<GPUBuffer> {
    return new Set(this.slots.flat());
  }

  /** Host-tier bytes. */
  get hostBytes(): number {
    return this.host.reduce((a, layer) => a + layer.length * this.expertBytes, 0);
  }

  destroy(): void {
    for (const layer of this.host) for (const b of layer) b.destroy();
    for (const b of this.#slotBuffers()) b.destroy();
    for (const chunk of this.chunkList.flat()) chunk.buffer.destroy();
  }
}
