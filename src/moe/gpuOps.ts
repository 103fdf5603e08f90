/**
 * The MoE engine's WGSL operations as typed calls that record into a `CommandBatch`: linear layers
 * on packed-f16 weights (plain, fused gate/up SwiGLU, gathered/scattered for routed experts),
 * RMSNorm, embedding, RoPE + KV store, attention, router top-k and the residual combine.
 *
 * Per-dispatch parameters go into a uniform arena (256-byte slots) and per-step index lists (token
 * ids, (slot, position) pairs, expert token lists) into a storage arena; both are uploaded with one
 * `writeBuffer` each just before the batch is submitted, which the queue orders before the batch.
 */
import { createStorageBuffer } from '../runtime/buffers.ts';
import type { CommandBatch } from '../runtime/commands.ts';
import { getKernel, type Kernel, loadWgsl } from '../runtime/kernels.ts';

const PARAM_STRIDE = 256;
/**
 * Linear layers with at most 4 tokens (decode) use gemv.wgsl, the rest linear.wgsl; 32 threads per
 * row, 128 per workgroup: the fastest layout at 1 token on the H100 (bench/results/moe-h100).
 */
export const GEMV_TOKEN_BUCKETS = [1, 2, 4] as const;
export interface GemvConfig {
  /** Threads sharing one weight row (power of two). */
  threadsPerRow: number;
  workgroup: number;
}
export const GEMV: GemvConfig = { threadsPerRow: 32, workgroup: 128 };
const PARAM_BYTES = 64;

class ParamArena {
  readonly buffer: GPUBuffer;
  readonly #bytes: ArrayBuffer;
  #next = 0;
  constructor(
    readonly device: GPUDevice,
    readonly capacity: number,
  ) {
    this.buffer = device.createBuffer({
      label: 'moe params',
      size: capacity * PARAM_STRIDE,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#bytes = new ArrayBuffer(capacity * PARAM_STRIDE);
  }

  /** Stores one parameter block (u32 values, or f32 where given as `{ f: x }`). */
  push(values: (number | { f: number })[]): { buffer: GPUBuffer; offset: number; size: number } {
    if (this.#next >= this.capacity)
      throw new Error('moe parameter arena is full (too many dispatches in one batch)');
    const offset = this.#next++ * PARAM_STRIDE;
    const view = new DataView(this.#bytes, offset, PARAM_BYTES);
    values.forEach((v, i) => {
      if (typeof v === 'number') view.setUint32(4 * i, v, true);
      else view.setFloat32(4 * i, v.f, true);
    });
    return { buffer: this.buffer, offset, size: PARAM_BYTES };
  }

  flush(): void {
    if (this.#next > 0)
      this.device.queue.writeBuffer(this.buffer, 0, this.#bytes, 0, this.#next * PARAM_STRIDE);
    this.#next = 0;
  }
}

export class MetaArena {
  readonly buffer: GPUBuffer;
  readonly #data: Uint32Array<ArrayBuffer>;
  #next = 0;
  #flushed = 0;
  constructor(
    readonly device: GPUDevice,
    readonly capacity: number,
  ) {
    this.buffer = createStorageBuffer(device, 4 * capacity, 'moe meta');
    this.#data = new Uint32Array(capacity);
  }

  /** Appends u32 values; returns their word offset. */
  push(values: ArrayLike<number>): number {
    if (this.#next + values.length > this.capacity) throw new Error('moe meta arena is full');
    const offset = this.#next;
    this.#data.set(values, offset);
    this.#next += values.length;
    return offset;
  }

  get mark(): number {
    return this.#next;
  }

  /** Forgets everything after `mark` (per-submit lists), keeping what comes before (per-step lists). */
  rewind(mark: number): void {
    this.#next = mark;
    this.#flushed = Math.min(this.#flushed, mark);
  }

  flush(): void {
    if (this.#next > this.#flushed) {
      this.device.queue.writeBuffer(
        this.buffer,
        4 * this.#flushed,
        this.#data,
        this.#flushed,
        this.#next - this.#flushed,
      );
    }
    this.#flushed = this.#next;
  }
}

export interface LinearCall {
  weights: GPUBuffer;
  x: GPUBuffer;
  y: GPUBuffer;
  tokens: number;
  rows: number;
  cols: number;
  /** u32 word offset of the matrix in `weights`. */
  wOffset?: number;
  inBase?: number;
  outBase?: number;
  /** Meta offset of per-token source rows. */
  gather?: number;
  /** Meta offset of per-token destination rows. */
  scatter?: number;
  bias?: GPUBuffer | null;
  /** Router weights to scale each destination row by. */
  routeWeights?: GPUBuffer;
  gateUp?: boolean;
  /**
   * GPU-side routing: `tokens` counts (token, k) pairs, each pair runs the expert `ids[pair]`
   * if it lies in this chunk of side-by-side experts (gemv.wgsl's ROUTED mode).
   */
  routed?: {
    ids: GPUBuffer;
    firstExpert: number;
    chunkExperts: number;
    /** u32 words per expert (gate, up and down). */
    expertWords: number;
    /** Input row = pair / inDiv: the top-k for gate/up (rows are tokens), 1 for down. */
    inDiv: number;
  };
}

/** Tokens and attention geometry shared by the RoPE/KV-store and attention kernels. */
export interface AttentionShape {
  tokens: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  maxPositions: number;
  /** Meta offset of the tokens' (slot, position) pairs. */
  metaOffset: number;
}

function shapeParams(s: AttentionShape): number[] {
  return [s.tokens, s.heads, s.kvHeads, s.headDim, s.maxPositions, s.metaOffset];
}

export class MoeOps {
  readonly params: ParamArena;
  readonly #dummy: GPUBuffer;

  private constructor(
    readonly device: GPUDevice,
    readonly meta: MetaArena,
    private readonly k: Record<
      'linear' | 'gateUp' | 'rmsnorm' | 'embed' | 'rope' | 'attention' | 'router' | 'combine',
      Kernel
    >,
    /** gemv.wgsl by token bucket (1, 2, 4) and routed, plain and gate/up. */
    private readonly gemv: Map<string, Kernel>,
    private readonly gemvConfig: GemvConfig | null,
  ) {
    this.params = new ParamArena(device, 8192);
    this.#dummy = createStorageBuffer(device, 16, 'moe dummy');
  }

  /** `gemv: null` runs every linear layer with the tiled kernel (for comparisons). */
  static async create(
    device: GPUDevice,
    metaWords: number,
    maxPositions: number,
    gemvConfig: GemvConfig | null = GEMV,
  ): Promise<MoeOps> {
    const load = (name: string): Promise<string> =>
      loadWgsl(`./wgsl/${name}.wgsl`, import.meta.url);
    const kernel = async (name: string, constants?: Record<string, number>): Promise<Kernel> =>
      getKernel(device, {
        code: await load(name),
        label: `moe ${name}`,
        ...(constants ? { constants } : {}),
      });
    const linear = await load('linear');
    const gemvCode = await load('gemv');
    const gemv = new Map<string, Kernel>();
    const config = gemvConfig ?? GEMV;
    for (const tok of [...(gemvConfig ? GEMV_TOKEN_BUCKETS : []), 'routed'] as const) {
      for (const gateUp of [false, true]) {
        gemv.set(
          `${tok}${gateUp ? 'g' : ''}`,
          await getKernel(device, {
            code: gemvCode,
            label: `moe gemv ${tok}${gateUp ? ' gate_up' : ''}`,
            constants: {
              TOK: tok === 'routed' ? 1 : tok,
              ROUTED: +(tok === 'routed'),
              TPR: config.threadsPerRow,
              WG: config.workgroup,
              GATE_UP: +gateUp,
            },
          }),
        );
      }
    }
    return new MoeOps(
      device,
      new MetaArena(device, metaWords),
      {
        linear: await getKernel(device, { code: linear, label: 'moe linear' }),
        gateUp: await getKernel(device, {
          code: linear,
          label: 'moe gate_up',
          constants: { GATE_UP: 1 },
        }),
        rmsnorm: await kernel('rmsnorm'),
        embed: await kernel('embed'),
        rope: await kernel('rope_store'),
        attention: await kernel('attention', { MAX_POS: maxPositions }),
        router: await kernel('router'),
        combine: await kernel('combine'),
      },
      gemv,
      gemvConfig,
    );
  }

  /** GPU bytes of the parameter and meta arenas. */
  get gpuBytes(): number {
    return this.params.buffer.size + this.meta.buffer.size + this.#dummy.size;
  }

  destroy(): void {
    this.params.buffer.destroy();
    this.meta.buffer.destroy();
    this.#dummy.destroy();
  }

  /** Uploads this batch's parameters and lists; call right before `batch.submit()`. */
  flush(): void {
    this.params.flush();
    this.meta.flush();
  }

  linear(batch: CommandBatch, c: LinearCall): void {
    const p = this.params.push([
      c.tokens,
      c.rows,
      c.cols,
      c.wOffset ?? 0,
      c.inBase ?? 0,
      c.outBase ?? 0,
      c.gather ?? 0,
      c.scatter ?? 0,
      c.bias ? 1 : 0,
      c.routeWeights ? 1 : 0,
      c.gather === undefined ? 0 : 1,
      c.scatter === undefined ? 0 : 1,
      c.routed?.firstExpert ?? 0,
      c.routed?.chunkExperts ?? 0,
      c.routed?.expertWords ?? 0,
      c.routed?.inDiv ?? 1,
    ]);
    const bindings = [
      c.weights,
      c.x,
      c.y,
      c.bias ?? this.#dummy,
      c.routed?.ids ?? this.meta.buffer,
      c.routeWeights ?? this.#dummy,
      p,
    ];
    // The routed kernels exist with every config (null only turns the token buckets off).
    const { workgroup, threadsPerRow } = this.gemvConfig ?? GEMV;
    const gemvGroups = Math.ceil(c.rows / (workgroup / threadsPerRow));
    const gateUp = c.gateUp ? 'g' : '';
    if (c.routed) {
      if (gemvGroups > 65535) {
        throw new Error(`routed linear: ${c.rows} rows need too many workgroups`);
      }
      batch.dispatch(this.gemv.get(`routed${gateUp}`)!, bindings, [gemvGroups, c.tokens]);
      return;
    }
    const bucket = GEMV_TOKEN_BUCKETS.find((b) => c.tokens <= b);
    if (bucket !== undefined && this.gemvConfig) {
      const x = Math.min(gemvGroups, 65535);
      batch.dispatch(this.gemv.get(`${bucket}${gateUp}`)!, bindings, [
        x,
        Math.ceil(gemvGroups / x),
      ]);
      return;
    }
    batch.dispatch(c.gateUp ? this.k.gateUp : this.k.linear, bindings, [
      Math.ceil(c.rows / 4),
      Math.ceil(c.tokens / 4),
    ]);
  }

  rmsNorm(
    batch: CommandBatch,
    x: GPUBuffer,
    weight: GPUBuffer,
    y: GPUBuffer,
    groups: number,
    dim: number,
    eps: number,
  ): void {
    const p = this.params.push([groups, dim, { f: eps }]);
    batch.dispatch(
      this.k.rmsnorm,
      [x, weight, y, p],
      [Math.min(groups, 65535), Math.ceil(groups / 65535)],
    );
  }

  embed(
    batch: CommandBatch,
    table: GPUBuffer,
    x: GPUBuffer,
    tokens: number,
    hidden: number,
    metaOffset: number,
  ): void {
    const p = this.params.push([tokens, hidden, metaOffset]);
    batch.dispatch(
      this.k.embed,
      [table, this.meta.buffer, x, p],
      [Math.ceil(hidden / 2 / 64), tokens],
    );
  }

  ropeStore(
    batch: CommandBatch,
    b: {
      q: GPUBuffer;
      k: GPUBuffer;
      v: GPUBuffer;
      kCache: GPUBuffer;
      vCache: GPUBuffer;
      invFreq: GPUBuffer;
    },
    s: AttentionShape,
  ): void {
    const p = this.params.push(shapeParams(s));
    const threads = ((s.heads + s.kvHeads) * s.headDim) / 2;
    batch.dispatch(
      this.k.rope,
      [b.q, b.k, b.v, b.kCache, b.vCache, b.invFreq, this.meta.buffer, p],
      [Math.ceil(threads / 64), s.tokens],
    );
  }

  attention(
    batch: CommandBatch,
    b: { q: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; out: GPUBuffer },
    s: AttentionShape & { window: number },
  ): void {
    const p = this.params.push([...shapeParams(s), s.window, { f: 1 / Math.sqrt(s.headDim) }]);
    batch.dispatch(
      this.k.attention,
      [b.q, b.kCache, b.vCache, b.out, this.meta.buffer, p],
      [s.heads, s.tokens],
    );
  }

  router(
    batch: CommandBatch,
    logits: GPUBuffer,
    ids: GPUBuffer,
    weights: GPUBuffer,
    tokens: number,
    experts: number,
    topK: number,
    normalize: boolean,
  ): void {
    const p = this.params.push([tokens, experts, topK, normalize ? 1 : 0]);
    batch.dispatch(this.k.router, [logits, ids, weights, p], Math.ceil(tokens / 64));
  }

  combine(
    batch: CommandBatch,
    x: GPUBuffer,
    parts: GPUBuffer,
    s: { tokens: number; hidden: number; k: number; shared?: { out: GPUBuffer; gate: GPUBuffer } },
  ): void {
    const p = this.params.push([s.tokens, s.hidden, s.k, s.shared ? 1 : 0]);
    batch.dispatch(
      this.k.combine,
      [x, parts, s.shared?.out ?? this.#dummy, s.shared?.gate ?? this.#dummy, p],
      [Math.ceil(s.hidden / 64), s.tokens],
    );
  }
}
