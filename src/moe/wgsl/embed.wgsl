// Embedding lookup: x[t, :] = E[token_t, :] widened from packed f16; token ids come from `lists`.
struct Params {
  tokens: u32,
  hidden: u32,
  meta_offset: u32,
}

@group(0) @binding(0) var<storage, read> E: array<u32>;
@group(0) @binding(1) var<storage, read> lists: array<u32>;
@group(0) @binding(2) var<storage, read_write> X: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half_h = p.hidden / 2u;
  let i = gid.x;
  let t = gid.y;
  if (i >= half_h || t >= p.tokens) { return; }
  let v = unpack2x16float(E[lists[p.meta_offset + t] * half_h + i]);
  X[t * p.hidden + 2u * i] = v.x;
  X[t * p.hidden + 2u * i + 1u] = v.y;
}
