// Shared by the spectral step kernels (prepended to each, after step_params.wgsl): the workgroup
// buffer and an in-place radix-2 decimation-in-time FFT on it. Complex values are vec2<f32>.
// Twiddles come from a table computed in float64 on the CPU (tw[base + k] = exp(-2πi k/n)).

override WG: u32 = 256u;
override SHARED: u32 = 4096u;
var<workgroup> sh: array<vec2<f32>, SHARED>;

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

fn bitrev(j: u32, bits: u32) -> u32 {
  return reverseBits(j) >> (32u - bits);
}

// `count` transforms of length 2^bits stored at sh[base + t·n], input in bit-reversed order,
// output in natural order. Must be called from uniform control flow (it has barriers).
fn fft_shared(base: u32, count: u32, bits: u32, tw_base: u32, inverse: bool, lid: u32) {
  let n = 1u << bits;
  let half = n >> 1u;
  let butterflies = count * half;
  for (var s = 0u; s < bits; s++) {
    let h = 1u << s;
    let stride = n >> (s + 1u);
    for (var b = lid; b < butterflies; b += WG) {
      let t = b / half;
      let j = b % half;
      let pos = j & (h - 1u);
      let i0 = base + t * n + (j >> s) * 2u * h + pos;
      let i1 = i0 + h;
      var w = tw[tw_base + pos * stride];
      if (inverse) {
        w.y = -w.y;
      }
      let x1 = cmul(w, sh[i1]);
      let x0 = sh[i0];
      sh[i0] = x0 + x1;
      sh[i1] = x0 - x1;
    }
    workgroupBarrier();
  }
}
