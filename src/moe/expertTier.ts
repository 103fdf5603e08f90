/**
 * Routed experts' memory: the host tier (one `HostBuffer` per expert, `MAP_WRITE | COPY_SRC`,
 * filled once at load straight from the checkpoint's byte ranges) and the GPU slots the cache
 * policy fills from it with `copyBufferToBuffer`. In `gpu-only` mode (policy all-gpu) there is no
 * host tier: every expert is uploaded once into its own slot.
 */
import { createBufferFrom, HostBuffer, storageUsage } from '../runtime/buffers.ts';
import type { CommandBatch } from '../runtime/commands.ts';
import { expertBytes } from './config.ts';
import type { WeightSource } from './weights.ts';

export class ExpertTier {
  private constructor(
    readonly expertBytes: number,
    /** host[layer][expert], empty in gpu-only mode and for dense layers. */
    private readonly host: HostBuffer[][],
    /** slots[layer][slot]. */
    private readonly slots: GPUBuffer[][],
  ) {}

  static async load(
    device: GPUDevice,
    weights: WeightSource,
    mode: 'gpu-only' | 'host',
    slotsPerLayer: number,
    onLoad?: (done: number, total: number) => void,
  ): Promise<ExpertTier> {
    const spec = weights.spec;
    const bytes = expertBytes(spec);
    const count = bytes / 2;
    const moe = spec.layerKinds.map((k) => k === 'moe');
    const total = moe.filter(Boolean).length * spec.numExperts;
    let done = 0;
    const host: HostBuffer[][] = [];
    const slots: GPUBuffer[][] = [];
    for (let l = 0; l < spec.layers; l++) {
      host.push([]);
      slots.push([]);
      if (!moe[l]) continue;
      for (let e = 0; e < spec.numExperts; e++) {
        if (mode === 'gpu-only') {
          slots[l]!.push(
            createBufferFrom(
              device,
              await weights.readExpertF16(l, e),
              storageUsage(),
              `expert ${l}.${e}`,
            ),
          );
        } else {
          const buffer = new HostBuffer(device, bytes, `host expert ${l}.${e}`);
          const mapped = buffer.mapped!;
          await weights.readExpertF16(
            l,
            e,
            new Uint16Array(mapped.buffer, mapped.byteOffset, count),
          );
          buffer.seal();
          host[l]!.push(buffer);
        }
        onLoad?.(++done, total);
      }
      if (mode === 'host') {
        for (let s = 0; s < slotsPerLayer; s++) {
          slots[l]!.push(
            device.createBuffer({
              label: `expert slot ${l}.${s}`,
              size: bytes,
              usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
            }),
          );
        }
      }
    }
    return new ExpertTier(bytes, host, slots);
  }

  slot(layer: number, slot: number): GPUBuffer {
    return this.slots[layer]![slot]!;
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
    return this.slots.reduce((a, layer) => a + layer.length * this.expertBytes, 0);
  }

  /** Host-tier bytes. */
  get hostBytes(): number {
    return this.host.reduce((a, layer) => a + layer.length * this.expertBytes, 0);
  }

  destroy(): void {
    for (const layer of this.host) for (const b of layer) b.destroy();
    for (const layer of this.slots) for (const b of layer) b.destroy();
  }
}
