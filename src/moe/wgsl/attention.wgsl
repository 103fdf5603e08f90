// Causal grouped-query attention over the KV cache: one workgroup per (token, head) scores the
// token's query against cached keys at positions first..pos of its sequence (first > 0 only with a
// sliding window), softmax in f32, and the weighted sum of cached values. Prefill and decode are the
// same kernel: a prefill token sees the keys its earlier tokens wrote in the same step.
struct Params {
  tokens: u32,
  heads: u32,
  kv_heads: u32,
  head_dim: u32,
  max_positions: u32,
  meta_offset: u32,
  window: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> k_cache: array<f32>;
@group(0) @binding(2) var<storage, read> v_cache: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<storage, read> lists: array<u32>;
@group(0) @binding(5) var<uniform> p: Params;

override MAX_POS: u32 = 1024u;
const WG = 64u;
var<workgroup> scores: array<f32, MAX_POS>;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let head = wid.x;
  let t = wid.y;
  if (t >= p.tokens) { return; }
  let slot = lists[p.meta_offset + 2u * t];
  let pos = lists[p.meta_offset + 2u * t + 1u];
  var first = 0u;
  if (p.window > 0u && pos + 1u > p.window) { first = pos + 1u - p.window; }
  let n = pos + 1u - first;
  let kvh = head / (p.heads / p.kv_heads);
  let q_base = (t * p.heads + head) * p.head_dim;
  let cache_base = slot * p.max_positions;
  var local_max = -3.0e38;
  for (var j = lid; j < n; j += WG) {
    let k_base = ((cache_base + first + j) * p.kv_heads + kvh) * p.head_dim;
    var s = 0.0;
    for (var i = 0u; i < p.head_dim; i++) { s += Q[q_base + i] * k_cache[k_base + i]; }
    s *= p.scale;
    scores[j] = s;
    local_max = max(local_max, s);
  }
  red[lid] = local_max;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let m = red[0];
  workgroupBarrier();
  var local_sum = 0.0;
  for (var j = lid; j < n; j += WG) {
    let e = exp(scores[j] - m);
    scores[j] = e;
    local_sum += e;
  }
  red[lid] = local_sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  for (var i = lid; i < p.head_dim; i += WG) {
    var acc = 0.0;
    for (var j = 0u; j < n; j++) {
      acc += scores[j] * v_cache[((cache_base + first + j) * p.kv_heads + kvh) * p.head_dim + i];
    }
    O[q_base + i] = acc / total;
  }
}
