// Residual update x[t, :] += sum_j P[t * K + j, :] (+ sigmoid(g[t]) * S[t, :]): adds attention output
// (K = 1), a dense MLP output (K = 1) or the k weighted expert outputs of a token in a fixed order,
// plus Qwen2's gated shared expert. One writer per element, so no atomics and no order noise.
struct Params {
  tokens: u32,
  hidden: u32,
  k: u32,
  has_shared: u32,
}

@group(0) @binding(0) var<storage, read_write> X: array<f32>;
@group(0) @binding(1) var<storage, read> P: array<f32>;
@group(0) @binding(2) var<storage, read> S: array<f32>;
@group(0) @binding(3) var<storage, read> G: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let t = gid.y;
  if (i >= p.hidden || t >= p.tokens) { return; }
  var v = X[t * p.hidden + i];
  for (var j = 0u; j < p.k; j++) { v += P[(t * p.k + j) * p.hidden + i]; }
  if (p.has_shared != 0u) {
    v += S[t * p.hidden + i] / (1.0 + exp(-G[t]));
  }
  X[t * p.hidden + i] = v;
}
