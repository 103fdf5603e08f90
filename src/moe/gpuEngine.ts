/**
 * The WebGPU MoE engine. Dense weights live on the GPU as packed f16; routed experts live in a host
 * tier of `MAP_WRITE | COPY_SRC` buffers filled once at load (48-50 GB/s to the GPU on the H100,
 * vs ~1 GB/s through writeBuffer) and are copied into GPU slots (per layer, or one shared pool) by
 * the policy in `expertCache.ts` (`all-gpu` skips the host tier and fills every slot at load).
 *
 * A step runs all its tokens (any mix of prefill and decode, several sequences) layer by layer in
 * as few submits as the routing allows: everything up to a MoE layer's router is one submit, whose
 * expert ids are read back; the host groups tokens by expert, issues the copies of missing experts
 * and every active expert's fused gate/up and down dispatches (all tokens routed to an expert in
 * one dispatch), and carries on to the next router. With `lookahead`, layer l+1's router is also
 * applied to layer l's hidden state and its predicted experts are copied in at layer l.
 */
import { createBufferFrom, readBuffer, storageUsage } from '../runtime/buffers.ts';
import { CommandBatch } from '../runtime/commands.ts';
import { expertBytes, type MoeSpec, ropeInverseFrequencies } from './config.ts';
import {
  checkStep,
  type EngineCounters,
  type MoeEngine,
  type RouteObserver,
  type StepEntry,
  type TokenPlace,
  type TokenRoute,
} from './engine.ts';
import { cacheLayout, ExpertCache, type Need, type Policy } from './expertCache.ts';
import type { RouteAdvisor, StepPlan } from './expertflow/advisor.ts';
import { MoeOps } from './gpuOps.ts';
import { ExpertTier } from './expertTier.ts';
import { EMBED, FINAL_NORM, LM_HEAD, layerNames } from './tensorNames.ts';
import type { WeightSource } from './weights.ts';

export interface GpuEngineOptions {
  policy: Policy;
  expertsPerLayer?: number | undefined;
  /** One pool of this many expert slots shared by all MoE layers. */
  sharedSlots?: number | undefined;
  budgetBytes?: number | undefined;
  maxSequences?: number;
  maxPositions?: number;
  /** Tokens per forward chunk (longer prefills are split). */
  maxStepTokens?: number;
  /** Submit expert copies on their own and wait for them, to measure stall time per layer. */
  measureStalls?: boolean;
  /** all-gpu decode: run the routed experts without reading the routes back (default true). */
  gpuRouting?: boolean;
  /** all-gpu: largest buffer of side-by-side experts (default: the storage-binding limit). */
  expertChunkBytes?: number;
  /** expertflow: the prefetch and eviction advice (a routing-path predictor or a trace). */
  advisor?: RouteAdvisor;
  /**
   * Trace replay: the experts every token takes at a decoder layer, replacing the router's choice
   * (timing benchmarks on synthetic weights; outputs are then meaningless).
   */
  routeOverride?: RouteOverride;
  onLoad?: (done: number, total: number) => void;
}

interface GpuLayer {
  inputNorm: GPUBuffer;
  postNorm: GPUBuffer;
  q: GPUBuffer;
  k: GPUBuffer;
  v: GPUBuffer;
  o: GPUBuffer;
  qBias: GPUBuffer | null;
  kBias: GPUBuffer | null;
  vBias: GPUBuffer | null;
  qNorm: GPUBuffer | null;
  kNorm: GPUBuffer | null;
  router: GPUBuffer | null;
  /** gate | up | down of the dense MLP (dense layers) or the shared expert. */
  mlp: GPUBuffer | null;
  sharedGate: GPUBuffer | null;
  kCache: GPUBuffer;
  vCache: GPUBuffer;
}

type Scratch = Record<
  | 'x'
  | 'xn'
  | 'q'
  | 'qn'
  | 'k'
  | 'kn'
  | 'v'
  | 'attn'
  | 'o'
  | 'logits'
  | 'predLogits'
  | 'ids'
  | 'weights'
  | 'predIds'
  | 'predWeights'
  | 'hidden'
  | 'parts'
  | 'shared'
  | 'sharedGate'
  | 'out',
  GPUBuffer
>;

/** Expert ids [T * K] for the tokens at `places` at decoder layer `layer`. */
export type RouteOverride = (layer: number, places: TokenPlace[]) => Uint32Array;

/** (slot, position) pairs flattened as the RoPE kernel reads them -> one place per token. */
function placesOf(slotPos: number[]): TokenPlace[] {
  return Array.from({ length: slotPos.length / 2 }, (_, t) => ({
    slot: slotPos[2 * t]!,
    position: slotPos[2 * t + 1]!,
  }));
}

/** `gpu` whose createBuffer also records each new buffer in `owned`. */
function trackBuffers(gpu: GPUDevice, owned: GPUBuffer[]): GPUDevice {
  return new Proxy(gpu, {
    get(target, prop) {
      if (prop === 'createBuffer') {
        return (descriptor: GPUBufferDescriptor) => {
          const buffer = target.createBuffer(descriptor);
          owned.push(buffer);
          return buffer;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

export class GpuMoeEngine implements MoeEngine {
  readonly #lengths: number[];
  readonly #stallMs: number[];
  #bytesMoved = 0;
  /**
   * all-gpu steps of at most numExperts (token, k) pairs and no route observer keep the routes on
   * the GPU: no routing readback (and wait) per MoE layer, only the logits at the end.
   */
  gpuRouting = true;
  /** MoE layers whose routes were read back to the host (one submit + sync each). */
  routeReadbacks = 0;
  advisor: RouteAdvisor | null = null;
  routeOverride: RouteOverride | null = null;
  /** Experts copied in ahead of the router on the advisor's word. */
  adviceCopies = 0;

  private constructor(
    readonly spec: MoeSpec,
    readonly maxSequences: number,
    readonly maxPositions: number,
    readonly maxStepTokens: number,
    readonly policy: Policy,
    readonly cache: ExpertCache,
    private readonly device: GPUDevice,
    private readonly ops: MoeOps,
    private readonly layers: GpuLayer[],
    private readonly tier: ExpertTier,
    private readonly embed: GPUBuffer,
    private readonly lmHead: GPUBuffer,
    private readonly finalNorm: GPUBuffer,
    private readonly invFreq: GPUBuffer,
    private readonly s: Scratch,
    /** Submit expert copies on their own and wait for them, timing the stall per layer. */
    public measureStalls: boolean,
    private readonly routingStaging: GPUBuffer,
    private readonly owned: GPUBuffer[],
  ) {
    this.#lengths = new Array<number>(maxSequences).fill(0);
    this.#stallMs = new Array<number>(spec.layers).fill(0);
  }

  static async load(
    gpu: GPUDevice,
    weights: WeightSource,
    options: GpuEngineOptions,
  ): Promise<GpuMoeEngine> {
    const spec = weights.spec;
    // Every buffer made here is destroyed by close() (benchmarks load several engines in turn).
    const owned: GPUBuffer[] = [];
    const device = trackBuffers(gpu, owned);
    const widths = [
      spec.hidden,
      spec.heads * spec.headDim,
      spec.expertIntermediate,
      spec.denseIntermediate,
      spec.sharedExpert?.intermediate ?? 8,
    ];
    if (widths.some((w) => w % 8 !== 0) || spec.headDim % 2 !== 0) {
      throw new Error(
        `the WGSL engine needs hidden, attention and intermediate sizes that are multiples of 8 (16-byte weight loads); got ${widths.join(', ')}`,
      );
    }
    const maxSequences = options.maxSequences ?? 4;
    const maxPositions = Math.min(options.maxPositions ?? 1024, spec.maxPositions);
    if (maxPositions > 3072)
      throw new Error(`--max-context ${maxPositions} exceeds the attention kernel's 3072`);
    const maxStepTokens = options.maxStepTokens ?? 256;
    const moeLayers = spec.layerKinds.filter((k) => k === 'moe').length;
    const layout = cacheLayout({
      policy: options.policy,
      experts: spec.numExperts,
      moeLayers,
      expertBytes: expertBytes(spec),
      expertsPerLayer: options.expertsPerLayer,
      sharedSlots: options.sharedSlots,
      budgetBytes: options.budgetBytes,
    });
    const f32 = (data: Float32Array, label: string): GPUBuffer =>
      createBufferFrom(device, data, GPUBufferUsage.STORAGE, label);
    const matrix = async (name: string): Promise<GPUBuffer> =>
      createBufferFrom(device, await weights.readF16(name), storageUsage(), name);
    const maybeF32 = async (name: string | null): Promise<GPUBuffer | null> =>
      name ? f32(await weights.readF32(name), name) : null;
    const mlp = async (
      names: { gate: string; up: string; down: string } | null,
    ): Promise<GPUBuffer | null> => {
      if (!names) return null;
      const parts = [
        await weights.readF16(names.gate),
        await weights.readF16(names.up),
        await weights.readF16(names.down),
      ];
      const all = new Uint16Array(parts.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      return createBufferFrom(device, all, storageUsage(), names.gate);
    };
    const cacheBytes = 4 * maxSequences * maxPositions * spec.kvHeads * spec.headDim;
    const layers: GpuLayer[] = [];
    for (let l = 0; l < spec.layers; l++) {
      const n = layerNames(spec, l);
      layers.push({
        inputNorm: f32(await weights.readF32(n.inputNorm), n.inputNorm),
        postNorm: f32(await weights.readF32(n.postAttentionNorm), n.postAttentionNorm),
        q: await matrix(n.q),
        k: await matrix(n.k),
        v: await matrix(n.v),
        o: await matrix(n.o),
        qBias: await maybeF32(n.qBias),
        kBias: await maybeF32(n.kBias),
        vBias: await maybeF32(n.vBias),
        qNorm: await maybeF32(n.qNorm),
        kNorm: await maybeF32(n.kNorm),
        router: n.router ? await matrix(n.router) : null,
        mlp: await mlp(n.dense ?? n.shared),
        sharedGate: n.sharedGate ? await matrix(n.sharedGate) : null,
        kCache: device.createBuffer({
          label: `k cache ${l}`,
          size: cacheBytes,
          usage: GPUBufferUsage.STORAGE,
        }),
        vCache: device.createBuffer({
          label: `v cache ${l}`,
          size: cacheBytes,
          usage: GPUBufferUsage.STORAGE,
        }),
      });
    }
    const embed = await matrix(EMBED);
    const lmHead = spec.tieEmbeddings ? embed : await matrix(LM_HEAD);
    const tier = await ExpertTier.load(
      gpu,
      weights,
      options.policy === 'all-gpu' ? 'gpu-only' : 'host',
      layout,
      options.onLoad,
      options.expertChunkBytes,
    );
    const T = maxStepTokens;
    const K = spec.topK;
    const inter = Math.max(
      spec.expertIntermediate * K,
      spec.denseIntermediate,
      spec.sharedExpert?.intermediate ?? 0,
    );
    const scratchSizes: Record<keyof Scratch, number> = {
      x: T * spec.hidden,
      xn: T * spec.hidden,
      q: T * spec.heads * spec.headDim,
      qn: T * spec.heads * spec.headDim,
      k: T * spec.kvHeads * spec.headDim,
      kn: T * spec.kvHeads * spec.headDim,
      v: T * spec.kvHeads * spec.headDim,
      attn: T * spec.heads * spec.headDim,
      o: T * spec.hidden,
      logits: T * spec.numExperts,
      predLogits: T * spec.numExperts,
      ids: T * K,
      weights: T * K,
      predIds: T * K,
      predWeights: T * K,
      hidden: T * inter,
      parts: T * K * spec.hidden,
      shared: T * spec.hidden,
      sharedGate: T,
      out: maxSequences * spec.vocab,
    };
    const s = Object.fromEntries(
      Object.entries(scratchSizes).map(([name, count]) => [
        name,
        device.createBuffer({
          label: name,
          size: 4 * Math.max(1, count),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        }),
      ]),
    ) as Scratch;
    const ops = await MoeOps.create(gpu, 8 * T + 4 * T * K + 64, maxPositions);
    return new GpuMoeEngine(
      spec,
      maxSequences,
      maxPositions,
      maxStepTokens,
      options.policy,
      new ExpertCache(spec.layers, spec.numExperts, layout.slots, layout.shared),
      gpu,
      ops,
      layers,
      tier,
      embed,
      lmHead,
      f32(await weights.readF32(FINAL_NORM), FINAL_NORM),
      f32(ropeInverseFrequencies(spec.rope, spec.headDim), 'rope inv freq'),
      s,
      options.measureStalls ?? false,
      device.createBuffer({
        label: 'routing readback',
        size: 12 * T * K,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      }),
      owned,
    ).#configure(options);
  }

  #configure(options: GpuEngineOptions): this {
    this.gpuRouting = options.gpuRouting ?? true;
    this.advisor = options.advisor ?? null;
    this.routeOverride = options.routeOverride ?? null;
    if (this.policy === 'expertflow' && !this.advisor)
      throw new Error('the expertflow policy needs a routing-path predictor (--predictor)');
    return this.#warmAllGpu();
  }

  /** all-gpu: every expert sits in its own slot from the start. */
  #warmAllGpu(): this {
    if (this.policy === 'all-gpu') {
      for (let l = 0; l < this.spec.layers; l++) {
        if (this.spec.layerKinds[l] !== 'moe') continue;
        for (let e = 0; e < this.spec.numExperts; e++) this.cache.prefetch(l, e, new Set());
      }
      this.cache.prefetches = 0;
    }
    return this;
  }

  length(slot: number): number {
    return this.#lengths[slot]!;
  }

  reset(slot: number): void {
    this.#lengths[slot] = 0;
    this.advisor?.reset(slot);
  }

  counters(): EngineCounters {
    return {
      expertHits: this.cache.hits,
      expertMisses: this.cache.misses,
      bytesMoved: this.#bytesMoved,
      stallMs: this.#stallMs.slice(),
      gpuBytes: this.owned.reduce((a, b) => a + b.size, 0) + this.tier.gpuBytes + this.ops.gpuBytes,
      expertGpuBytes: this.tier.gpuBytes,
    };
  }

  /** Zeroes hits, misses, bytes moved and stall times (e.g. after a warm-up or the prefill). */
  resetCounters(): void {
    this.cache.hits = 0;
    this.cache.misses = 0;
    this.cache.prefetches = 0;
    this.cache.prefetchUsed = 0;
    this.#bytesMoved = 0;
    this.#stallMs.fill(0);
  }

  async close(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.tier.destroy();
    this.ops.destroy();
    for (const buffer of this.owned) buffer.destroy();
  }

  async step(entries: StepEntry[], observe?: RouteObserver): Promise<Float32Array[]> {
    checkStep(this, entries);
    const logits: Float32Array[] = new Array<Float32Array>(entries.length);
    // Split long steps into chunks of at most maxStepTokens tokens, sequence by sequence.
    let pending = entries.map((e, index) => ({ index, slot: e.slot, tokens: e.tokens }));
    while (pending.length > 0) {
      let room = this.maxStepTokens;
      const chunk: { index: number; slot: number; tokens: number[]; last: boolean }[] = [];
      const rest: typeof pending = [];
      for (const p of pending) {
        if (room === 0) {
          rest.push(p);
          continue;
        }
        const take = Math.min(room, p.tokens.length);
        chunk.push({
          index: p.index,
          slot: p.slot,
          tokens: p.tokens.slice(0, take),
          last: take === p.tokens.length,
        });
        if (take < p.tokens.length) rest.push({ ...p, tokens: p.tokens.slice(take) });
        room -= take;
      }
      const out = await this.#forward(chunk, observe);
      chunk.forEach((c, i) => {
        if (c.last) logits[c.index] = out[i]!;
      });
      pending = rest;
    }
    return logits;
  }

  async #forward(
    chunk: { slot: number; tokens: number[] }[],
    observe?: RouteObserver,
  ): Promise<Float32Array[]> {
    const { spec, ops, s } = this;
    const H = spec.hidden;
    const K = spec.topK;
    const tokens = chunk.flatMap((c) => c.tokens);
    const T = tokens.length;
    const slotPos = chunk.flatMap((c) =>
      c.tokens.flatMap((_, i) => [c.slot, this.#lengths[c.slot]! + i]),
    );
    let lastRow = -1;
    const lastRows = chunk.map((c) => (lastRow += c.tokens.length));
    ops.meta.rewind(0);
    const tokenOffset = ops.meta.push(tokens);
    const posOffset = ops.meta.push(slotPos);
    const lastOffset = ops.meta.push(lastRows);
    const stepMark = ops.meta.mark;
    let batch = new CommandBatch(this.device);
    ops.embed(batch, this.embed, s.x, T, H, tokenOffset);
    const moeLayers = spec.layerKinds.map((k, l) => (k === 'moe' ? l : -1)).filter((l) => l >= 0);
    const gpuRouted =
      this.gpuRouting &&
      this.policy === 'all-gpu' &&
      !observe &&
      !this.routeOverride &&
      T * K <= spec.numExperts;
    const places = observe || this.routeOverride ? placesOf(slotPos) : [];
    const plan = this.policy === 'expertflow' ? this.advisor!.plan(chunk) : null;
    // Per-layer slots take every layer's prediction up front; a shared pool cannot hold them all,
    // so each layer's predicted experts come in just before that layer runs.
    if (plan && !this.cache.shared) this.#prefetchAdvised(batch, plan, moeLayers);
    for (let l = 0; l < spec.layers; l++) {
      const w = this.layers[l]!;
      if (plan && this.cache.shared && spec.layerKinds[l] === 'moe')
        this.#prefetchAdvised(batch, plan, [l]);
      this.#attention(batch, w, T, posOffset);
      ops.rmsNorm(batch, s.x, w.postNorm, s.xn, T, H, spec.rmsEps);
      if (spec.layerKinds[l] === 'dense') {
        this.#mlp(batch, w.mlp!, spec.denseIntermediate, T, s.o);
        ops.combine(batch, s.x, s.o, { tokens: T, hidden: H, k: 1 });
        continue;
      }
      ops.linear(batch, {
        weights: w.router!,
        x: s.xn,
        y: s.logits,
        tokens: T,
        rows: spec.numExperts,
        cols: H,
      });
      ops.router(batch, s.logits, s.ids, s.weights, T, spec.numExperts, K, spec.normTopK);
      const next = moeLayers.find((m) => m > l);
      const predict = this.policy === 'lookahead' && next !== undefined;
      if (predict) {
        ops.linear(batch, {
          weights: this.layers[next]!.router!,
          x: s.xn,
          y: s.predLogits,
          tokens: T,
          rows: spec.numExperts,
          cols: H,
        });
        ops.router(
          batch,
          s.predLogits,
          s.predIds,
          s.predWeights,
          T,
          spec.numExperts,
          K,
          spec.normTopK,
        );
      }
      if (gpuRouted) {
        this.#routedExperts(batch, l, T * K);
      } else {
        batch = await this.#hostRoutedExperts(batch, l, T, predict ? next : undefined, {
          stepMark,
          observe,
          places,
          need: plan?.need(l),
        });
      }
      if (w.mlp) {
        this.#mlp(batch, w.mlp, spec.sharedExpert!.intermediate, T, s.shared);
        ops.linear(batch, {
          weights: w.sharedGate!,
          x: s.xn,
          y: s.sharedGate,
          tokens: T,
          rows: 1,
          cols: H,
        });
      }
      ops.combine(batch, s.x, s.parts, {
        tokens: T,
        hidden: H,
        k: K,
        ...(w.mlp ? { shared: { out: s.shared, gate: s.sharedGate } } : {}),
      });
      if (gpuRouted) {
        // Submit layer by layer so the GPU runs this layer while the host records the next.
        ops.flush();
        batch.submit();
        batch = new CommandBatch(this.device);
      }
    }
    ops.rmsNorm(batch, s.x, this.finalNorm, s.xn, T, H, spec.rmsEps);
    ops.linear(batch, {
      weights: this.lmHead,
      x: s.xn,
      y: s.out,
      tokens: chunk.length,
      rows: spec.vocab,
      cols: H,
      gather: lastOffset,
    });
    ops.flush();
    batch.submit();
    for (const c of chunk) this.#lengths[c.slot]! += c.tokens.length;
    const out = new Float32Array(
      await readBuffer(this.device, s.out, 4 * chunk.length * spec.vocab),
    );
    return chunk.map((_, i) => out.slice(i * spec.vocab, (i + 1) * spec.vocab));
  }

  #attention(batch: CommandBatch, w: GpuLayer, T: number, posOffset: number): void {
    const { spec, ops, s } = this;
    const { hidden: H, heads, kvHeads, headDim: d, rmsEps } = spec;
    ops.rmsNorm(batch, s.x, w.inputNorm, s.xn, T, H, rmsEps);
    ops.linear(batch, {
      weights: w.q,
      x: s.xn,
      y: s.q,
      tokens: T,
      rows: heads * d,
      cols: H,
      bias: w.qBias,
    });
    ops.linear(batch, {
      weights: w.k,
      x: s.xn,
      y: s.k,
      tokens: T,
      rows: kvHeads * d,
      cols: H,
      bias: w.kBias,
    });
    ops.linear(batch, {
      weights: w.v,
      x: s.xn,
      y: s.v,
      tokens: T,
      rows: kvHeads * d,
      cols: H,
      bias: w.vBias,
    });
    let q = s.q;
    let k = s.k;
    if (w.qNorm && w.kNorm) {
      const perHead = spec.qkNorm === 'per-head';
      ops.rmsNorm(
        batch,
        s.q,
        w.qNorm,
        s.qn,
        perHead ? T * heads : T,
        perHead ? d : heads * d,
        rmsEps,
      );
      ops.rmsNorm(
        batch,
        s.k,
        w.kNorm,
        s.kn,
        perHead ? T * kvHeads : T,
        perHead ? d : kvHeads * d,
        rmsEps,
      );
      q = s.qn;
      k = s.kn;
    }
    const shape = {
      tokens: T,
      heads,
      kvHeads,
      headDim: d,
      maxPositions: this.maxPositions,
      metaOffset: posOffset,
    };
    ops.ropeStore(
      batch,
      { q, k, v: s.v, kCache: w.kCache, vCache: w.vCache, invFreq: this.invFreq },
      shape,
    );
    ops.attention(
      batch,
      { q, kCache: w.kCache, vCache: w.vCache, out: s.attn },
      { ...shape, window: spec.slidingWindow ?? 0 },
    );
    ops.linear(batch, { weights: w.o, x: s.attn, y: s.o, tokens: T, rows: H, cols: heads * d });
    ops.combine(batch, s.x, s.o, { tokens: T, hidden: H, k: 1 });
  }

  /** A dense SwiGLU MLP (gate | up | down in one buffer) over all tokens of xn into `out`. */
  #mlp(batch: CommandBatch, weights: GPUBuffer, inter: number, T: number, out: GPUBuffer): void {
    const { ops, s, spec } = this;
    ops.linear(batch, {
      weights,
      x: s.xn,
      y: s.hidden,
      tokens: T,
      rows: inter,
      cols: spec.hidden,
      gateUp: true,
    });
    ops.linear(batch, {
      weights,
      wOffset: inter * spec.hidden,
      x: s.hidden,
      y: out,
      tokens: T,
      rows: spec.hidden,
      cols: inter,
    });
  }

  /** all-gpu, routes kept on the GPU: per chunk of experts, gate/up then down for every pair. */
  #routedExperts(batch: CommandBatch, layer: number, pairs: number): void {
    const { spec, ops, s } = this;
    const H = spec.hidden;
    const I = spec.expertIntermediate;
    const expertWords = this.tier.expertBytes / 4;
    for (const chunk of this.tier.chunks(layer)) {
      const routed = {
        ids: s.ids,
        firstExpert: chunk.first,
        chunkExperts: chunk.count,
        expertWords,
      };
      ops.linear(batch, {
        weights: chunk.buffer,
        x: s.xn,
        y: s.hidden,
        tokens: pairs,
        rows: I,
        cols: H,
        gateUp: true,
        routed: { ...routed, inDiv: spec.topK },
      });
      ops.linear(batch, {
        weights: chunk.buffer,
        wOffset: I * H,
        x: s.hidden,
        y: s.parts,
        tokens: pairs,
        rows: H,
        cols: I,
        routeWeights: s.weights,
        routed: { ...routed, inDiv: 1 },
      });
    }
    this.cache.hits += pairs;
  }

  /**
   * The routes go to the host: submit what is recorded, read the expert ids back, load what is
   * missing and record each active expert's dispatches; lookahead also prefetches layer `next`'s
   * predicted experts. Returns the batch to continue recording into.
   */
  async #hostRoutedExperts(
    batch: CommandBatch,
    layer: number,
    T: number,
    next: number | undefined,
    step: {
      stepMark: number;
      observe: RouteObserver | undefined;
      places: TokenPlace[];
      need: Need | undefined;
    },
  ): Promise<CommandBatch> {
    const K = this.spec.topK;
    const predict = next !== undefined;
    this.#stageRouting(batch, T * K, predict);
    this.ops.flush();
    batch.submit();
    const routing = await this.#readRouting(T * K, predict);
    if (this.routeOverride) routing.ids = this.routeOverride(layer, step.places);
    this.routeReadbacks++;
    this.ops.meta.rewind(step.stepMark);
    let out = new CommandBatch(this.device);
    if (step.observe) {
      const routes: TokenRoute[] = Array.from({ length: T }, (_, t) => ({
        experts: Array.from(routing.ids.subarray(t * K, (t + 1) * K)),
        weights: Array.from(routing.weights.subarray(t * K, (t + 1) * K)),
      }));
      step.observe(layer, routes, step.places);
    }
    out = await this.#experts(out, layer, routing.ids, T, step.need);
    if (predict && routing.predicted) this.#prefetch(out, next, routing.predicted);
    return out;
  }

  /** Records copies of the router outputs into the mapped-read staging buffer. */
  #stageRouting(batch: CommandBatch, count: number, predicted: boolean): void {
    const bytes = 4 * count;
    batch.copy(this.s.ids, 0, this.routingStaging, 0, bytes);
    batch.copy(this.s.weights, 0, this.routingStaging, bytes, bytes);
    if (predicted) batch.copy(this.s.predIds, 0, this.routingStaging, 2 * bytes, bytes);
  }

  async #readRouting(
    count: number,
    predicted: boolean,
  ): Promise<{ ids: Uint32Array; weights: Float32Array; predicted: Uint32Array | null }> {
    const bytes = 4 * count;
    await this.routingStaging.mapAsync(GPUMapMode.READ, 0, 3 * bytes);
    const copy = this.routingStaging.getMappedRange(0, 3 * bytes).slice(0);
    this.routingStaging.unmap();
    return {
      ids: new Uint32Array(copy, 0, count),
      weights: new Float32Array(copy, bytes, count),
      predicted: predicted ? new Uint32Array(copy, 2 * bytes, count) : null,
    };
  }

  /**
   * Loads missing experts and records each active expert's dispatches, in waves if slots are few:
   * resident experts first (each is a hit before anything can evict it), then the missing ones,
   * least needed first when an advisor says what is needed (so the most needed stay resident).
   */
  async #experts(
    batch: CommandBatch,
    layer: number,
    ids: Uint32Array,
    T: number,
    need?: Need,
  ): Promise<CommandBatch> {
    const { spec, ops, s } = this;
    const K = spec.topK;
    const H = spec.hidden;
    const I = spec.expertIntermediate;
    const byExpert = new Map<number, { src: number[]; dst: number[] }>();
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < K; j++) {
        const e = ids[t * K + j]!;
        let list = byExpert.get(e);
        if (!list) byExpert.set(e, (list = { src: [], dst: [] }));
        list.src.push(t);
        list.dst.push(t * K + j);
      }
    }
    const resident = new Set(this.cache.resident(layer));
    const ranked = [...byExpert.keys()].sort((a, b) => a - b);
    const rank = need ?? (() => 0);
    const active = [
      ...ranked.filter((e) => resident.has(e)),
      ...ranked.filter((e) => !resident.has(e)).sort((a, b) => rank(a) - rank(b) || a - b),
    ];
    let region = 0;
    for (let w = 0; w < active.length; w += this.cache.capacity) {
      const wave = active.slice(w, w + this.cache.capacity);
      const pinned = new Set(wave);
      let loads = 0;
      const slots = wave.map((e) => {
        const { slot, load } = this.cache.acquire(layer, e, pinned, need);
        if (load) {
          this.#bytesMoved += this.tier.copyIn(batch, layer, e, slot);
          loads++;
        }
        return slot;
      });
      if (this.measureStalls && loads > 0) batch = await this.#waitForCopies(batch, layer);
      wave.forEach((e, i) => {
        const list = byExpert.get(e)!;
        const n = list.src.length;
        const gather = ops.meta.push(list.src);
        const scatter = ops.meta.push(list.dst);
        const { buffer: weights, wordOffset } = this.tier.slot(layer, slots[i]!);
        ops.linear(batch, {
          weights,
          wOffset: wordOffset,
          x: s.xn,
          y: s.hidden,
          tokens: n,
          rows: I,
          cols: H,
          gather,
          outBase: region * I,
          gateUp: true,
        });
        ops.linear(batch, {
          weights,
          wOffset: wordOffset + I * H,
          x: s.hidden,
          y: s.parts,
          tokens: n,
          rows: H,
          cols: I,
          inBase: region * I,
          scatter,
          routeWeights: s.weights,
        });
        region += n;
      });
    }
    return batch;
  }

  /** Stall measurement: submits what is recorded (the copies) and waits for it. */
  async #waitForCopies(batch: CommandBatch, layer: number): Promise<CommandBatch> {
    const started = performance.now();
    this.ops.flush();
    batch.submit();
    await this.device.queue.onSubmittedWorkDone();
    this.#stallMs[layer]! += performance.now() - started;
    return new CommandBatch(this.device);
  }

  /**
   * expertflow: before the step's first layer, copy each MoE layer's predicted experts into slots
   * that hold no predicted expert (a resident predicted expert is already a hit).
   */
  #prefetchAdvised(batch: CommandBatch, plan: StepPlan, moeLayers: number[]): void {
    for (const layer of moeLayers) {
      const wanted = plan.prefetch(layer);
      for (const { expert, slot } of this.cache.prefetchPredicted(
        layer,
        wanted,
        new Set(wanted),
        plan.need(layer),
      )) {
        this.#bytesMoved += this.tier.copyIn(batch, layer, expert, slot);
        this.adviceCopies++;
      }
    }
  }

  #prefetch(batch: CommandBatch, layer: number, predicted: Uint32Array): void {
    const wanted = [...new Set(predicted)].sort((a, b) => a - b).slice(0, this.cache.capacity);
    const pinned = new Set(wanted);
    for (const e of wanted) {
      const got = this.cache.prefetch(layer, e, pinned);
      if (got) this.#bytesMoved += this.tier.copyIn(batch, layer, e, got.slot);
    }
  }
}
