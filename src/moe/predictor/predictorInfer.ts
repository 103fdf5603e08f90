/**
 * Routing-path predictor inference in plain TypeScript, one token at a time with a key/value cache:
 * what the ExpertFlow cache runs on the host while the GPU decodes (the model is ~1 M parameters, a
 * token costs well under a millisecond, and no GPU round trip is added to the decode step). The
 * jax-js forward in predictorModel.ts is its reference; a test compares the two.
 */
import { matvec, rmsNorm } from '../reference.ts';
import {
  type PredictorShape,
  predictorParameterShapes,
  PREDICTOR_NORM_EPS,
} from './predictorModel.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const gelu = (x: number): number =>
  0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));

export class RoutePredictor {
  readonly shape: PredictorShape;
  readonly #w: Map<string, Float32Array>;

  constructor(shape: PredictorShape, values: Map<string, Float32Array>) {
    for (const [name, dims] of predictorParameterShapes(shape)) {
      const v = values.get(name);
      const count = dims.reduce((a, b) => a * b, 1);
      if (!v || v.length !== count)
        throw new Error(
          `predictor tensor ${name}: expected ${count} values, got ${v?.length ?? 'none'}`,
        );
    }
    this.shape = shape;
    this.#w = values;
  }

  /** Parameter count (for the size report). */
  get parameters(): number {
    let n = 0;
    for (const v of this.#w.values()) n += v.length;
    return n;
  }

  /** A fresh sequence: push its tokens one by one. */
  session(): PredictorSession {
    return new PredictorSession(this.shape, this.#w);
  }

  /** Route probabilities [T][L*E] of a whole sequence. */
  predict(tokens: number[]): Float32Array[] {
    const s = this.session();
    return tokens.map((t) => s.push(t));
  }
}

export class PredictorSession {
  readonly #s: PredictorShape;
  readonly #w: Map<string, Float32Array>;
  readonly #keys: Float32Array[];
  readonly #values: Float32Array[];
  #length = 0;
  /** Tokens above the predictor's vocabulary seen so far (predicted as id 0). */
  unknownTokens = 0;

  constructor(shape: PredictorShape, weights: Map<string, Float32Array>) {
    this.#s = shape;
    this.#w = weights;
    const size = shape.maxPositions * shape.width;
    this.#keys = Array.from({ length: shape.layers }, () => new Float32Array(size));
    this.#values = Array.from({ length: shape.layers }, () => new Float32Array(size));
  }

  get length(): number {
    return this.#length;
  }

  /** Feeds the next token; returns sigmoid probabilities [L*E] of its routes. */
  push(token: number): Float32Array {
    const s = this.#s;
    const w = (name: string) => this.#w.get(name)!;
    const t = this.#length;
    if (t >= s.maxPositions)
      throw new Error(`predictor holds ${s.maxPositions} positions; sequence is longer`);
    if (!Number.isInteger(token) || token < 0) throw new Error(`token ${token} is not a token id`);
    // Ids the training traces never held (the vocabulary is theirs) share id 0's embedding.
    if (token >= s.vocab) {
      this.unknownTokens++;
      token = 0;
    }
    const d = s.width;
    const hd = d / s.heads;
    const x = new Float32Array(d);
    const embed = w('embed');
    const position = w('position');
    for (let i = 0; i < d; i++) x[i] = embed[token * d + i]! + position[t * d + i]!;
    const norm = (v: Float32Array, name: string) => rmsNorm(v, w(name), PREDICTOR_NORM_EPS);
    const attn = new Float32Array(d);
    const scores = new Float32Array(t + 1);
    for (let l = 0; l < s.layers; l++) {
      const p = `layer${l}.`;
      const qkv = matvec(w(`${p}qkv`), norm(x, `${p}norm1`), 3 * d, d);
      const keys = this.#keys[l]!;
      const values = this.#values[l]!;
      keys.set(qkv.subarray(d, 2 * d), t * d);
      values.set(qkv.subarray(2 * d, 3 * d), t * d);
      const scale = 1 / Math.sqrt(hd);
      for (let head = 0; head < s.heads; head++) {
        const o = head * hd;
        let max = -Infinity;
        for (let j = 0; j <= t; j++) {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += qkv[o + i]! * keys[j * d + o + i]!;
          scores[j] = dot * scale;
          max = Math.max(max, scores[j]!);
        }
        let total = 0;
        for (let j = 0; j <= t; j++) total += scores[j] = Math.exp(scores[j]! - max);
        for (let i = 0; i < hd; i++) {
          let acc = 0;
          for (let j = 0; j <= t; j++) acc += scores[j]! * values[j * d + o + i]!;
          attn[o + i] = acc / total;
        }
      }
      const out = matvec(w(`${p}out`), attn, d, d);
      for (let i = 0; i < d; i++) x[i] = x[i]! + out[i]!;
      const up = matvec(w(`${p}up`), norm(x, `${p}norm2`), s.ffn, d).map(gelu);
      const down = matvec(w(`${p}down`), up, d, s.ffn);
      for (let i = 0; i < d; i++) x[i] = x[i]! + down[i]!;
    }
    const outputs = s.moeLayers * s.experts;
    const logits = matvec(w('head'), norm(x, 'final_norm'), outputs, d, w('head_bias'));
    this.#length++;
    return logits.map((z) => 1 / (1 + Math.exp(-z)));
  }
}
