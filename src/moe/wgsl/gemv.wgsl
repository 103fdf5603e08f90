// Decode-sized linear layers: the same contract as linear.wgsl (f16 weights packed two per u32 in
// HF's [out, in] layout, f32 activations, f32 accumulation, optional bias, gather/scatter through
// token lists, route-weight scaling, fused SwiGLU with GATE_UP) for at most TOK tokens per
// dispatch. Reading the weights once is the whole cost at decode, so each row gets TPR threads that
// read consecutive 16-byte chunks (a group reads TPR * 16 contiguous bytes per step, two steps in
// flight), and the only reduction is a short tree within the group. Fixed reduction order: results
// are identical run to run.
//
// ROUTED (all experts of a layer resident side by side, one dispatch per chunk of them): workgroup
// row wid.y is one (token, k) pair of the router's output; it reads its expert id from `lists`
// (the router's ids), skips experts outside this chunk, reads input row pair / in_div (the token
// for gate/up, the pair itself for down) and writes output row `pair`. The host never reads the
// routes.
struct Params {
  tokens: u32,
  rows: u32,
  cols: u32,
  w_offset: u32,
  in_base: u32,
  out_base: u32,
  gather_offset: u32,
  scatter_offset: u32,
  has_bias: u32,
  scale_by_route: u32,
  gather: u32,
  scatter: u32,
  first_expert: u32,
  chunk_experts: u32,
  expert_words: u32,
  in_div: u32,
}

@group(0) @binding(0) var<storage, read> W: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> lists: array<u32>;
@group(0) @binding(5) var<storage, read> route_weights: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

override GATE_UP: bool = false;
override ROUTED: bool = false;
/** Tokens per dispatch (at most TOK_MAX). */
override TOK: u32 = 1u;
/** Threads per row (a power of two dividing WG). */
override TPR: u32 = 16u;
override WG: u32 = 128u;
const TOK_MAX = 8u;
var<workgroup> red: array<f32, 2u * TOK_MAX * WG>;

fn unpack8(w: vec4<u32>) -> array<vec4<f32>, 2> {
  return array<vec4<f32>, 2>(
    vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)),
    vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w)),
  );
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = lid % TPR;
  var group = wid.x + wid.y * groups.x;
  var w_base = p.w_offset / 4u;
  var ntok = p.tokens;
  var in_chunk = true;
  var src: array<u32, TOK_MAX>;
  var pair = 0u;
  if (ROUTED) {
    group = wid.x;
    pair = wid.y;
    ntok = 1u;
    let local = lists[pair] - p.first_expert; // wraps for experts below the chunk
    in_chunk = pair < p.tokens && local < p.chunk_experts;
    w_base = (p.w_offset + local * p.expert_words) / 4u;
    src[0] = (p.in_base + (pair / p.in_div) * p.cols) / 4u;
  } else {
    for (var tt = 0u; tt < TOK; tt++) {
      var s = tt;
      if (p.gather != 0u && tt < p.tokens) { s = lists[p.gather_offset + tt]; }
      src[tt] = (p.in_base + s * p.cols) / 4u;
    }
  }
  let r = group * (WG / TPR) + lid / TPR;
  let octs = p.cols / 8u;
  var acc: array<f32, TOK_MAX>;
  var acc_up: array<f32, TOK_MAX>;
  if (r < p.rows && in_chunk) {
    let row = w_base + r * octs;
    let row_up = w_base + (p.rows + r) * octs;
    for (var c = lane; c < octs; c += 2u * TPR) {
      let c2 = c + TPR;
      let more = c2 < octs;
      let w1 = unpack8(W[row + c]);
      var w2 = array<vec4<f32>, 2>(vec4<f32>(), vec4<f32>());
      if (more) { w2 = unpack8(W[row + c2]); }
      var u1 = array<vec4<f32>, 2>(vec4<f32>(), vec4<f32>());
      var u2 = array<vec4<f32>, 2>(vec4<f32>(), vec4<f32>());
      if (GATE_UP) {
        u1 = unpack8(W[row_up + c]);
        if (more) { u2 = unpack8(W[row_up + c2]); }
      }
      for (var tt = 0u; tt < TOK; tt++) {
        if (tt < ntok) {
          let xa = X[src[tt] + 2u * c];
          let xb = X[src[tt] + 2u * c + 1u];
          var xc = vec4<f32>();
          var xd = vec4<f32>();
          if (more) {
            xc = X[src[tt] + 2u * c2];
            xd = X[src[tt] + 2u * c2 + 1u];
          }
          acc[tt] += dot(w1[0], xa) + dot(w1[1], xb) + dot(w2[0], xc) + dot(w2[1], xd);
          if (GATE_UP) {
            acc_up[tt] += dot(u1[0], xa) + dot(u1[1], xb) + dot(u2[0], xc) + dot(u2[1], xd);
          }
        }
      }
    }
  }
  for (var tt = 0u; tt < TOK; tt++) {
    red[(2u * tt) * WG + lid] = acc[tt];
    red[(2u * tt + 1u) * WG + lid] = acc_up[tt];
  }
  workgroupBarrier();
  for (var s = TPR / 2u; s > 0u; s = s / 2u) {
    if (lane < s) {
      for (var i = 0u; i < 2u * TOK; i++) { red[i * WG + lid] += red[i * WG + lid + s]; }
    }
    workgroupBarrier();
  }
  if (lane == 0u && r < p.rows && in_chunk) {
    for (var tt = 0u; tt < TOK; tt++) {
      if (tt < ntok) {
        var v = red[(2u * tt) * WG + lid];
        if (GATE_UP) {
          v = v / (1.0 + exp(-v)) * red[(2u * tt + 1u) * WG + lid];
        }
        if (p.has_bias != 0u) { v += bias[r]; }
        var dst = tt;
        if (ROUTED) { dst = pair; } else if (p.scatter != 0u) { dst = lists[p.scatter_offset + tt]; }
        if (p.scale_by_route != 0u) { v *= route_weights[dst]; }
        Y[p.out_base + dst * p.rows + r] = v;
      }
    }
  }
}
