// Rotate-half RoPE of q (in place) and k at each token's position, then k and v written into the
// layer's KV cache [slot][position][kv head][head dim]. Token (slot, position) pairs come from lists.
struct Params {
  tokens: u32,
  heads: u32,
  kv_heads: u32,
  head_dim: u32,
  max_positions: u32,
  meta_offset: u32,
}

@group(0) @binding(0) var<storage, read_write> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(4) var<storage, read_write> v_cache: array<f32>;
@group(0) @binding(5) var<storage, read> inv_freq: array<f32>;
@group(0) @binding(6) var<storage, read> lists: array<u32>;
@group(0) @binding(7) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half_d = p.head_dim / 2u;
  let i = gid.x % half_d;
  let head = gid.x / half_d;
  let t = gid.y;
  if (t >= p.tokens || head >= p.heads + p.kv_heads) { return; }
  let slot = lists[p.meta_offset + 2u * t];
  let pos = lists[p.meta_offset + 2u * t + 1u];
  let angle = f32(pos) * inv_freq[i];
  let c = cos(angle);
  let s = sin(angle);
  if (head < p.heads) {
    let base = (t * p.heads + head) * p.head_dim;
    let a = Q[base + i];
    let b = Q[base + i + half_d];
    Q[base + i] = a * c - b * s;
    Q[base + i + half_d] = b * c + a * s;
  } else {
    let kvh = head - p.heads;
    let src = (t * p.kv_heads + kvh) * p.head_dim;
    let dst = ((slot * p.max_positions + pos) * p.kv_heads + kvh) * p.head_dim;
    let a = K[src + i];
    let b = K[src + i + half_d];
    k_cache[dst + i] = a * c - b * s;
    k_cache[dst + i + half_d] = b * c + a * s;
    v_cache[dst + i] = V[src + i];
    v_cache[dst + i + half_d] = V[src + i + half_d];
  }
}
