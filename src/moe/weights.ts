/**
 * Where the engines get weights from: a `Checkpoint` (a real model folder) or `SyntheticWeights`,
 * seeded random f16 values with a model's real dimensions for benchmarks (a Mixtral-8x7B-shaped
 * model is ~90 GB: generating its experts in memory is faster than writing and re-reading them,
 * and the compute and transfers measured are the same).
 */
import { f32ToF16Bits } from '../io/halfFloat.ts';
import type { MoeSpec } from './config.ts';
import { expectedTensors } from './tensorNames.ts';

export interface WeightSource {
  readonly spec: MoeSpec;
  /** A matrix as f16 bits. */
  readF16(name: string): Promise<Uint16Array>;
  /** A norm weight or bias as f32. */
  readF32(name: string): Promise<Float32Array>;
  /** One expert's gate, up and down matrices as f16, concatenated in that order. */
  readExpertF16(layer: number, expert: number, into?: Uint16Array): Promise<Uint16Array>;
}

/** A pool of f16 values ~N(0, scale^2) from which synthetic tensors are cut at seeded offsets. */
function pool(count: number, seed: number, scale: number): Uint16Array {
  let state = seed >>> 0 || 1;
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    // Sum of 4 uniforms: cheap, roughly normal, variance 4/12.
    let s = 0;
    for (let j = 0; j < 4; j++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      s += (state >>> 0) / 2 ** 32 - 0.5;
    }
    out[i] = f32ToF16Bits(s * Math.sqrt(3) * scale);
  }
  return out;
}

export class SyntheticWeights implements WeightSource {
  readonly #pool: Uint16Array;
  readonly #shapes: Map<string, number[]>;
  constructor(
    readonly spec: MoeSpec,
    readonly seed = 0,
  ) {
    this.#pool = pool(1 << 20, seed + 1, 1 / Math.sqrt(spec.hidden));
    this.#shapes = expectedTensors(spec);
  }

  #fill(out: Uint16Array, salt: number): Uint16Array {
    const n = this.#pool.length;
    let at = (Math.imul(salt + 1, 2654435761) >>> 0) % n;
    for (let i = 0; i < out.length;) {
      const take = Math.min(out.length - i, n - at);
      out.set(this.#pool.subarray(at, at + take), i);
      i += take;
      at = (at + take + 7919) % n;
    }
    return out;
  }

  #salt(name: string): number {
    let h = this.seed;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
    return h;
  }

  async readF16(name: string): Promise<Uint16Array> {
    return this.#fill(new Uint16Array(this.#count(name)), this.#salt(name));
  }

  async readF32(name: string): Promise<Float32Array> {
    const count = this.#count(name);
    return name.endsWith('.bias') ? new Float32Array(count) : new Float32Array(count).fill(1);
  }

  async readExpertF16(layer: number, expert: number, into?: Uint16Array): Promise<Uint16Array> {
    const out = into ?? new Uint16Array(3 * this.spec.hidden * this.spec.expertIntermediate);
    return this.#fill(out, layer * 100003 + expert);
  }

  #count(name: string): number {
    const shape = this.#shapes.get(name);
    if (!shape) throw new Error(`synthetic model has no tensor '${name}'`);
    return shape.reduce((a, b) => a * b, 1);
  }
}
