// Shared by the spectral step kernels (prepended to each, after step_params.wgsl): the workgroup
// buffer and an in-place Stockham FFT on it, natural order in and out. Each stage gives one
// thread one radix-R butterfly (R = 8, 4 or 2) held in registers, so a transform of 2^L points
// takes ceil(L/3) passes of two barriers each instead of L radix-2 stages. Complex values
// are vec2<f32>; twiddles come from a table computed in float64 on the CPU
// (tw[base + k] = exp(−2πi k/n), k < n). The host sizes WG >= count · n / (smallest radix).

override WG: u32 = 256u;
override SHARED: u32 = 4096u;
var<workgroup> sh: array<vec2<f32>, SHARED>;

// Shared-memory position of value i of a sequence: one pad slot after every 16 values, so the
// stride-R writes of a Stockham pass fall in different banks. Sequences hold padded_length(n).
fn padded(i: u32) -> u32 {
  return i + (i >> 4u);
}

fn padded_length(n: u32) -> u32 {
  return n + (n >> 4u);
}

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

fn cconj(a: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(a.x, -a.y);
}

// i·k·a
fn times_ik(a: vec2<f32>, k: f32) -> vec2<f32> {
  return vec2<f32>(-k * a.y, k * a.x);
}

// i·s·a for s = ±1 (s = −1 forward, +1 inverse)
fn rot(a: vec2<f32>, s: f32) -> vec2<f32> {
  return vec2<f32>(-s * a.y, s * a.x);
}

fn dft4(a: vec2<f32>, b: vec2<f32>, c: vec2<f32>, d: vec2<f32>, s: f32) -> array<vec2<f32>, 4> {
  let s0 = a + c;
  let s1 = a - c;
  let s2 = b + d;
  let s3 = rot(b - d, s);
  return array<vec2<f32>, 4>(s0 + s2, s1 + s3, s0 - s2, s1 - s3);
}

fn dft8(v: array<vec2<f32>, 8>, s: f32) -> array<vec2<f32>, 8> {
  let e = dft4(v[0], v[2], v[4], v[6], s);
  let o = dft4(v[1], v[3], v[5], v[7], s);
  let h = 0.70710678;
  let o1 = vec2<f32>(h, s * h);
  let t1 = cmul(o[1], o1);
  let t2 = rot(o[2], s);
  let t3 = cmul(o[3], vec2<f32>(-h, s * h));
  return array<vec2<f32>, 8>(e[0] + o[0], e[1] + t1, e[2] + t2, e[3] + t3,
    e[0] - o[0], e[1] - t1, e[2] - t2, e[3] - t3);
}

// Radix-R butterfly in place on v[0..R): x_q = Σ_r v_r exp(s·2πi rq/R).
fn dft_in_place(v: ptr<function, array<vec2<f32>, 8>>, radix: u32, s: f32) {
  if (radix == 2u) {
    let a = (*v)[0];
    (*v)[0] = a + (*v)[1];
    (*v)[1] = a - (*v)[1];
  } else if (radix == 4u) {
    let x = dft4((*v)[0], (*v)[1], (*v)[2], (*v)[3], s);
    for (var r = 0u; r < 4u; r++) {
      (*v)[r] = x[r];
    }
  } else {
    *v = dft8(*v, s);
  }
}

// log2 of the radix of stage `stage` for a transform of 2^bits points: the fewest passes of radix
// at most 8 (ceil(bits / 3)), the bits spread evenly over them, larger radices first (2048 =
// 8·8·8·4, 1024 = 8·8·4·4, 512 = 8·8·8). fftPlan in gpuFft.ts mirrors it. Radix 16 (three passes at
// 1024 and 2048) measured slower on the H100: 512² and 2048² HW steps 11% and 1% fewer per second.
fn stage_log_radix(bits: u32, stage: u32) -> u32 {
  let passes = (bits + 2u) / 3u;
  return bits / passes + select(0u, 1u, stage < bits % passes);
}

// One Stockham pass of radix 2^log_r over `count` transforms, `done` bits already transformed.
// Twiddle w^(k·r) for r < radix: the product of the loaded w^(k·2^b) over the set bits b of r, so
// a pass loads at most three twiddles (before its barrier) instead of radix − 1, with at most three
// roundings (gpuFft.test.ts bounds the error; with radix 16, 2048² HW steps were 6% faster than
// with every twiddle loaded: bench/results/h100-solver-variants.txt, run 3).
fn fft_pass(base: u32, stride: u32, count: u32, bits: u32, done: u32, log_r: u32, tw_base: u32,
  s: f32, lid: u32) {
  let radix = 1u << log_r;
  let log_q = bits - log_r;
  let busy = lid < (count << log_q);
  let t = lid >> log_q;
  let j = lid & ((1u << log_q) - 1u);
  let k = j & ((1u << done) - 1u);
  let start = base + t * stride;
  let shift = bits - done - log_r;
  var v: array<vec2<f32>, 8>;
  var wp: array<vec2<f32>, 3>;
  if (busy) {
    for (var b = 0u; b < 3u; b++) {
      if (b < log_r) {
        let w = tw[tw_base + ((k << b) << shift)];
        wp[b] = vec2<f32>(w.x, -s * w.y);
      }
    }
    for (var r = 0u; r < 8u; r++) {
      if (r < radix) {
        v[r] = sh[start + padded(j + (r << log_q))];
      }
    }
  }
  workgroupBarrier();
  if (busy) {
    for (var r = 1u; r < 8u; r++) {
      if (r < radix) {
        for (var b = 0u; b < 3u; b++) {
          if (((r >> b) & 1u) == 1u) {
            v[r] = cmul(v[r], wp[b]);
          }
        }
      }
    }
    dft_in_place(&v, radix, s);
    let out = ((j >> done) << (done + log_r)) + k;
    for (var r = 0u; r < 8u; r++) {
      if (r < radix) {
        sh[start + padded(out + (r << done))] = v[r];
      }
    }
  }
  workgroupBarrier();
}

// `count` transforms of 2^bits points (bits <= 12) at sh[base + t·stride + padded(i)], in place.
// Must be called from uniform control flow (it has barriers). The passes are written out, not
// looped, so that with `bits` a pipeline constant every pass's radix is a constant too.
fn fft_shared(base: u32, stride: u32, count: u32, bits: u32, tw_base: u32, inverse: bool,
  lid: u32) {
  let s = select(-1.0, 1.0, inverse);
  let passes = (bits + 2u) / 3u;
  if (passes == 0u) {
    return;
  }
  let r0 = stage_log_radix(bits, 0u);
  fft_pass(base, stride, count, bits, 0u, r0, tw_base, s, lid);
  if (passes > 1u) {
    let r1 = stage_log_radix(bits, 1u);
    fft_pass(base, stride, count, bits, r0, r1, tw_base, s, lid);
    if (passes > 2u) {
      let r2 = stage_log_radix(bits, 2u);
      fft_pass(base, stride, count, bits, r0 + r1, r2, tw_base, s, lid);
      if (passes > 3u) {
        let r3 = stage_log_radix(bits, 3u);
        fft_pass(base, stride, count, bits, r0 + r1 + r2, r3, tw_base, s, lid);
      }
    }
  }
}
