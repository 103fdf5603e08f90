// RMSNorm of consecutive groups of `dim` values (a token's hidden state, or one attention head for
// Qwen3's q/k norm): out = x / sqrt(mean(x^2) + eps) * weight, in f32 as transformers computes it.
struct Params {
  groups: u32,
  dim: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

const WG = 64u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * 65535u;
  if (g >= p.groups) { return; }
  let base = g * p.dim;
  var ss = 0.0;
  for (var i = lid; i < p.dim; i += WG) { ss += X[base + i] * X[base + i]; }
  red[lid] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let scale = inverseSqrt(red[0] / f32(p.dim) + p.eps);
  for (var i = lid; i < p.dim; i += WG) { Y[base + i] = X[base + i] * scale * weight[i]; }
}
