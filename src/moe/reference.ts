/**
 * The plain-TypeScript MoE forward pass: the reference the WGSL engine is tested against, and the
 * CPU engine for tiny models (`--device wasm`). It follows the transformers modelling code of each
 * family step by step (RMSNorm in f32, rotate-half RoPE, grouped-query attention, softmax router
 * with top-k and the family's renormalisation, SwiGLU experts, Qwen2's sigmoid-gated shared
 * expert), with the same f16-rounded matrices the GPU holds and f64 accumulation.
 */
import type { Checkpoint } from './checkpoint.ts';
import { type MoeSpec, ropeInverseFrequencies } from './config.ts';
import {
  checkStep,
  type EngineCounters,
  type MoeEngine,
  type RouteObserver,
  routeToken,
  type StepEntry,
  type TokenRoute,
} from './engine.ts';
import {
  EMBED,
  expertNames,
  type ExpertNames,
  FINAL_NORM,
  LM_HEAD,
  layerNames,
} from './tensorNames.ts';

interface Mlp {
  gate: Float32Array;
  up: Float32Array;
  down: Float32Array;
  inter: number;
}

interface LayerWeights {
  inputNorm: Float32Array;
  postNorm: Float32Array;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  o: Float32Array;
  qBias: Float32Array | null;
  kBias: Float32Array | null;
  vBias: Float32Array | null;
  qNorm: Float32Array | null;
  kNorm: Float32Array | null;
  router: Float32Array | null;
  experts: Mlp[];
  dense: Mlp | null;
  shared: Mlp | null;
  sharedGate: Float32Array | null;
}

/** out[r] = sum_c W[r, c] x[c] (+ bias[r]); W row-major [rows, cols]. */
export function matvec(
  w: Float32Array,
  x: Float32Array,
  rows: number,
  cols: number,
  bias: Float32Array | null = null,
): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) acc += w[base + c]! * x[c]!;
    out[r] = acc + (bias ? bias[r]! : 0);
  }
  return out;
}

/** RMSNorm of consecutive groups of `dim` values of x, into a new array. */
export function rmsNorm(
  x: Float32Array,
  weight: Float32Array,
  eps: number,
  dim = x.length,
): Float32Array {
  const out = new Float32Array(x.length);
  for (let g = 0; g < x.length; g += dim) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[g + i]! ** 2;
    const scale = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) out[g + i] = x[g + i]! * scale * weight[i]!;
  }
  return out;
}

/** Rotate-half RoPE of every head (of size `headDim`) of x at `position`, in place. */
export function applyRope(
  x: Float32Array,
  headDim: number,
  position: number,
  invFreq: Float32Array,
): void {
  const half = headDim / 2;
  for (let h = 0; h < x.length; h += headDim) {
    for (let i = 0; i < half; i++) {
      const angle = position * invFreq[i]!;
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const a = x[h + i]!;
      const b = x[h + i + half]!;
      x[h + i] = a * cos - b * sin;
      x[h + i + half] = b * cos + a * sin;
    }
  }
}

export function swiglu(mlp: Mlp, x: Float32Array, hidden: number): Float32Array {
  const g = matvec(mlp.gate, x, mlp.inter, hidden);
  const u = matvec(mlp.up, x, mlp.inter, hidden);
  for (let i = 0; i < mlp.inter; i++) g[i] = (g[i]! / (1 + Math.exp(-g[i]!))) * u[i]!;
  return matvec(mlp.down, g, hidden, mlp.inter);
}

export class ReferenceEngine implements MoeEngine {
  readonly #keys: Float32Array[][];
  readonly #values: Float32Array[][];
  readonly #lengths: number[];
  readonly #invFreq: Float32Array;

  private constructor(
    readonly spec: MoeSpec,
    readonly maxSequences: number,
    readonly maxPositions: number,
    private readonly embed: Float32Array,
    private readonly finalNorm: Float32Array,
    private readonly lmHead: Float32Array,
    private readonly layers: LayerWeights[],
  ) {
    const kvSize = maxPositions * spec.kvHeads * spec.headDim;
    const perSlot = (): Float32Array[] => spec.layerKinds.map(() => new Float32Array(kvSize));
    this.#keys = Array.from({ length: maxSequences }, perSlot);
    this.#values = Array.from({ length: maxSequences }, perSlot);
    this.#lengths = new Array<number>(maxSequences).fill(0);
    this.#invFreq = ropeInverseFrequencies(spec.rope, spec.headDim);
  }

  static async load(
    checkpoint: Checkpoint,
    options: { maxSequences?: number; maxPositions?: number } = {},
  ): Promise<ReferenceEngine> {
    const spec = checkpoint.spec;
    const matrix = (name: string): Promise<Float32Array> => checkpoint.readMatrixF32(name);
    const maybe = (name: string | null): Promise<Float32Array | null> =>
      name ? checkpoint.readF32(name) : Promise.resolve(null);
    const mlp = async (names: ExpertNames, inter: number): Promise<Mlp> => ({
      gate: await matrix(names.gate),
      up: await matrix(names.up),
      down: await matrix(names.down),
      inter,
    });
    const layers: LayerWeights[] = [];
    for (let l = 0; l < spec.layers; l++) {
      const n = layerNames(spec, l);
      const moe = spec.layerKinds[l] === 'moe';
      const experts: Mlp[] = [];
      for (let e = 0; moe && e < spec.numExperts; e++) {
        experts.push(await mlp(expertNames(spec, l, e), spec.expertIntermediate));
      }
      layers.push({
        inputNorm: await checkpoint.readF32(n.inputNorm),
        postNorm: await checkpoint.readF32(n.postAttentionNorm),
        q: await matrix(n.q),
        k: await matrix(n.k),
        v: await matrix(n.v),
        o: await matrix(n.o),
        qBias: await maybe(n.qBias),
        kBias: await maybe(n.kBias),
        vBias: await maybe(n.vBias),
        qNorm: await maybe(n.qNorm),
        kNorm: await maybe(n.kNorm),
        router: n.router ? await matrix(n.router) : null,
        experts,
        dense: n.dense ? await mlp(n.dense, spec.denseIntermediate) : null,
        shared: n.shared ? await mlp(n.shared, spec.sharedExpert!.intermediate) : null,
        sharedGate: n.sharedGate ? await matrix(n.sharedGate) : null,
      });
    }
    const embed = await matrix(EMBED);
    const lmHead = spec.tieEmbeddings ? embed : await matrix(LM_HEAD);
    return new ReferenceEngine(
      spec,
      options.maxSequences ?? 4,
      Math.min(options.maxPositions ?? 512, spec.maxPositions),
      embed,
      await checkpoint.readF32(FINAL_NORM),
      lmHead,
      layers,
    );
  }

  length(slot: number): number {
    return this.#lengths[slot]!;
  }

  reset(slot: number): void {
    this.#lengths[slot] = 0;
  }

  counters(): EngineCounters {
    return {
      expertHits: 0,
      expertMisses: 0,
      bytesMoved: 0,
      stallMs: [],
      gpuBytes: 0,
      expertGpuBytes: 0,
    };
  }

  async close(): Promise<void> {}

  async step(entries: StepEntry[], observe?: RouteObserver): Promise<Float32Array[]> {
    checkStep(this, entries);
    const spec = this.spec;
    const h = spec.hidden;
    // Token-major over the whole step, so observers see every token of a layer at once.
    const tokens = entries.flatMap(({ slot, tokens }) =>
      tokens.map((token, i) => ({ slot, token, position: this.#lengths[slot]! + i })),
    );
    let states: Float32Array[] = tokens.map(({ token }) =>
      this.embed.slice(token * h, (token + 1) * h),
    );
    for (let l = 0; l < spec.layers; l++) {
      const w = this.layers[l]!;
      states = states.map((x, t) => this.#attention(l, w, x, tokens[t]!.slot, tokens[t]!.position));
      const routes: TokenRoute[] = [];
      states = states.map((x) => {
        const normed = rmsNorm(x, w.postNorm, spec.rmsEps);
        const y = this.#mlp(w, normed, routes);
        return x.map((v, i) => v + y[i]!);
      });
      if (spec.layerKinds[l] === 'moe') observe?.(l, routes, tokens);
    }
    for (const { slot, tokens: added } of entries) this.#lengths[slot]! += added.length;
    const logits: Float32Array[] = [];
    let end = 0;
    for (const entry of entries) {
      end += entry.tokens.length;
      const x = rmsNorm(states[end - 1]!, this.finalNorm, spec.rmsEps);
      logits.push(matvec(this.lmHead, x, spec.vocab, h));
    }
    return logits;
  }

  #attention(
    layer: number,
    w: LayerWeights,
    x: Float32Array,
    slot: number,
    position: number,
  ): Float32Array {
    const { hidden: h, heads, kvHeads, headDim: d, rmsEps } = this.spec;
    const normed = rmsNorm(x, w.inputNorm, rmsEps);
    let q = matvec(w.q, normed, heads * d, h, w.qBias);
    let k = matvec(w.k, normed, kvHeads * d, h, w.kBias);
    const v = matvec(w.v, normed, kvHeads * d, h, w.vBias);
    if (w.qNorm && w.kNorm) {
      const perHead = this.spec.qkNorm === 'per-head';
      q = rmsNorm(q, w.qNorm, rmsEps, perHead ? d : q.length);
      k = rmsNorm(k, w.kNorm, rmsEps, perHead ? d : k.length);
    }
    applyRope(q, d, position, this.#invFreq);
    applyRope(k, d, position, this.#invFreq);
    const keys = this.#keys[slot]![layer]!;
    const values = this.#values[slot]![layer]!;
    keys.set(k, position * kvHeads * d);
    values.set(v, position * kvHeads * d);
    const window = this.spec.slidingWindow;
    const first = window ? Math.max(0, position - window + 1) : 0;
    const out = new Float32Array(heads * d);
    const group = heads / kvHeads;
    const scale = 1 / Math.sqrt(d);
    for (let head = 0; head < heads; head++) {
      const kvh = Math.floor(head / group);
      const scores: number[] = [];
      for (let p = first; p <= position; p++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += q[head * d + i]! * keys[(p * kvHeads + kvh) * d + i]!;
        scores.push(s * scale);
      }
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const total = exps.reduce((a, b) => a + b, 0);
      for (let p = first; p <= position; p++) {
        const a = exps[p - first]! / total;
        for (let i = 0; i < d; i++) out[head * d + i]! += a * values[(p * kvHeads + kvh) * d + i]!;
      }
    }
    const o = matvec(w.o, out, h, heads * d);
    return x.map((value, i) => value + o[i]!);
  }

  #mlp(w: LayerWeights, x: Float32Array, routes: TokenRoute[]): Float32Array {
    const spec = this.spec;
    const h = spec.hidden;
    if (w.dense) return swiglu(w.dense, x, h);
    const route = routeToken(matvec(w.router!, x, spec.numExperts, h), spec.topK, spec.normTopK);
    routes.push(route);
    const y = new Float32Array(h);
    route.experts.forEach((e, j) => {
      const out = swiglu(w.experts[e]!, x, h);
      for (let i = 0; i < h; i++) y[i]! += route.weights[j]! * out[i]!;
    });
    if (w.shared && w.sharedGate) {
      const gate = 1 / (1 + Math.exp(-matvec(w.sharedGate, x, 1, h)[0]!));
      const out = swiglu(w.shared, x, h);
      for (let i = 0; i < h; i++) y[i]! += gate * out[i]!;
    }
    return y;
  }
}
