/**
 * Float64 FFTs in plain TypeScript: the CPU solver path and the reference every GPU FFT is tested
 * against. Interleaved complex storage ([re, im] pairs), power-of-two lengths, unnormalised
 * transforms (forward uses e^{-2πi jk/n}, inverse e^{+2πi jk/n}); callers scale.
 *
 * A real FFT of length n runs as a complex FFT of length n/2 on the packed even/odd samples, which
 * halves the work of every row transform in the 2-D solvers.
 */

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
}

function requirePowerOfTwo(n: number, what: string): void {
  if (!isPowerOfTwo(n)) throw new Error(`${what} must be a power of two >= 2, got ${n}`);
}

/** In-place iterative radix-2 complex FFT of one fixed length. */
export class ComplexFft {
  readonly n: number;
  readonly #reverse: Uint32Array;
  /** cos/sin of 2πj/n for j < n/2, computed directly (no recurrence) for full f64 accuracy. */
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;

  constructor(n: number) {
    this.n = n;
    requirePowerOfTwo(n, 'FFT length');
    const bits = Math.log2(n);
    this.#reverse = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.#reverse[i] = r;
    }
    this.#cos = new Float64Array(n / 2);
    this.#sin = new Float64Array(n / 2);
    for (let j = 0; j < n / 2; j++) {
      this.#cos[j] = Math.cos((2 * Math.PI * j) / n);
      this.#sin[j] = Math.sin((2 * Math.PI * j) / n);
    }
  }

  /** Transforms the n complex values starting at complex index `start` of `data`, in place. */
  transform(data: Float64Array, start: number, inverse: boolean): void {
    const n = this.n;
    const base = 2 * start;
    const rev = this.#reverse;
    for (let i = 0; i < n; i++) {
      const j = rev[i]!;
      if (j > i) {
        const a = base + 2 * i;
        const b = base + 2 * j;
        const re = data[a]!;
        const im = data[a + 1]!;
        data[a] = data[b]!;
        data[a + 1] = data[b + 1]!;
        data[b] = re;
        data[b + 1] = im;
      }
    }
    const cos = this.#cos;
    const sin = this.#sin;
    const sign = inverse ? 1 : -1;
    for (let half = 1; half < n; half *= 2) {
      const stride = n / (2 * half);
      for (let j = 0; j < half; j++) {
        const wr = cos[j * stride]!;
        const wi = sign * sin[j * stride]!;
        for (let k = base + 2 * j; k < base + 2 * n; k += 4 * half) {
          const m = k + 2 * half;
          const xr = data[m]!;
          const xi = data[m + 1]!;
          const tr = wr * xr - wi * xi;
          const ti = wr * xi + wi * xr;
          const ur = data[k]!;
          const ui = data[k + 1]!;
          data[k] = ur + tr;
          data[k + 1] = ui + ti;
          data[m] = ur - tr;
          data[m + 1] = ui - ti;
        }
      }
    }
  }
}

/** Real FFT of even length n through a complex FFT of length n/2. */
export class RealFft {
  readonly n: number;
  readonly half: ComplexFft;
  readonly #work: Float64Array;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;

  constructor(n: number) {
    this.n = n;
    requirePowerOfTwo(n, 'real FFT length');
    if (n < 4) throw new Error(`real FFT length must be >= 4, got ${n}`);
    this.half = new ComplexFft(n / 2);
    this.#work = new Float64Array(n);
    this.#cos = new Float64Array(n / 2 + 1);
    this.#sin = new Float64Array(n / 2 + 1);
    for (let k = 0; k <= n / 2; k++) {
      this.#cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.#sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
  }

  /**
   * Forward: real x[0..n) → X[0..count) (complex, interleaved) written at complex index `outStart`
   * of `out`; count ≤ n/2 + 1 (fewer keeps only the low wavenumbers, as de-aliasing needs).
   */
  forward(x: Float64Array, xStart: number, out: Float64Array, outStart: number, count: number) {
    const m = this.n / 2;
    const z = this.#work;
    for (let j = 0; j < this.n; j++) z[j] = x[xStart + j]!;
    this.half.transform(z, 0, false);
    const cos = this.#cos;
    const sin = this.#sin;
    for (let k = 0; k < count; k++) {
      const a = 2 * (k % m);
      const b = 2 * ((m - k) % m);
      const zr = z[a]!;
      const zi = z[a + 1]!;
      const cr = z[b]!;
      const ci = -z[b + 1]!;
      // E = (Z[k] + conj Z[m-k]) / 2, O = (Z[k] - conj Z[m-k]) / (2i), X = E + W^k O.
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      const or = 0.5 * (zi - ci);
      const oi = -0.5 * (zr - cr);
      const wr = cos[k]!;
      const wi = -sin[k]!;
      const o = 2 * (outStart + k);
      out[o] = er + wr * or - wi * oi;
      out[o + 1] = ei + wr * oi + wi * or;
    }
  }

  /**
   * Inverse: X[0..count) (entries above count are zero) → real x[0..n), unnormalised
   * (x_j = Σ over the full Hermitian spectrum of X_k e^{+2πi jk/n}).
   */
  inverse(spec: Float64Array, specStart: number, count: number, x: Float64Array, xStart: number) {
    const m = this.n / 2;
    const z = this.#work;
    const cos = this.#cos;
    const sin = this.#sin;
    const base = 2 * specStart;
    for (let k = 0; k < m; k++) {
      const inK = k < count;
      const inC = m - k < count;
      const xr = inK ? spec[base + 2 * k]! : 0;
      const xi = inK ? spec[base + 2 * k + 1]! : 0;
      const cr = inC ? spec[base + 2 * (m - k)]! : 0;
      const ci = inC ? -spec[base + 2 * (m - k) + 1]! : 0;
      // A = X[k] + conj X[m-k] (even samples), B = (X[k] - conj X[m-k]) e^{+2πik/n} (odd samples).
      const ar = xr + cr;
      const ai = xi + ci;
      const dr = xr - cr;
      const di = xi - ci;
      const wr = cos[k]!;
      const wi = sin[k]!;
      const br = dr * wr - di * wi;
      const bi = dr * wi + di * wr;
      z[2 * k] = ar - bi;
      z[2 * k + 1] = ai + br;
    }
    this.half.transform(z, 0, true);
    for (let j = 0; j < this.n; j++) x[xStart + j] = z[j]!;
  }
}
