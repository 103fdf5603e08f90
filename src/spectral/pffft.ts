/**
 * PFFFT (SIMD WebAssembly build, @echogarden/pffft-wasm): the float32 FFT of the fast CPU solver
 * path, about 3x faster than a radix-4 JavaScript FFT. Each `Pffft` owns one wasm instance (so
 * every worker thread has its own) and hands out aligned heap buffers; transforms are
 * unnormalised, ordered, e^{−2πi jk/n} forward. Real spectra use PFFFT's ordered layout
 * [X0.re, X(n/2).re, X1.re, X1.im, ...]; complex data is interleaved.
 */
import createPffft, { type PffftWasm } from '@echogarden/pffft-wasm/simd';

const REAL = 0;
const COMPLEX = 1;

export class Pffft {
  readonly #wasm: PffftWasm;
  readonly #setups = new Map<string, number>();
  readonly #work = new Map<string, number>();

  private constructor(wasm: PffftWasm) {
    this.#wasm = wasm;
  }

  static async load(): Promise<Pffft> {
    return new Pffft(await createPffft());
  }

  /** Smallest lengths PFFFT's SIMD build accepts (multiples of 32 real, 16 complex). */
  static supports(n: number, kind: 'real' | 'complex'): boolean {
    return n % (kind === 'real' ? 32 : 16) === 0;
  }

  /** An aligned buffer of `floats` f32 in the wasm heap (a heap offset in floats). */
  allocate(floats: number): number {
    return this.#wasm._pffft_aligned_malloc(4 * floats) / 4;
  }

  /** The heap; take it again after allocating (the heap may grow and move). */
  get heap(): Float32Array {
    return this.#wasm.HEAPF32;
  }

  /** Creates the plan and scratch of one transform (call before taking `heap` for good). */
  prepare(kind: 'real' | 'complex', n: number): void {
    const key = `${kind}${n}`;
    if (this.#setups.has(key)) return;
    if (!Pffft.supports(n, kind))
      throw new Error(`PFFFT needs a ${kind} length that is a multiple of 32/16, got ${n}`);
    this.#setups.set(key, this.#wasm._pffft_new_setup(n, kind === 'real' ? REAL : COMPLEX));
    this.#work.set(key, this.#wasm._pffft_aligned_malloc(4 * (kind === 'real' ? n : 2 * n)));
  }

  /** Transforms n real (or n complex) values at heap offset `input` into `output`. */
  transform(kind: 'real' | 'complex', n: number, input: number, output: number, inverse: boolean) {
    const key = `${kind}${n}`;
    const setup = this.#setups.get(key);
    if (setup === undefined) throw new Error(`call prepare('${kind}', ${n}) first`);
    const work = this.#work.get(key)!;
    this.#wasm._pffft_transform_ordered(setup, 4 * input, 4 * output, work, inverse ? 1 : 0);
  }
}
