// y[t, r] = sum_k W[r, k] x[t, k] (+ bias[r]) for f16 weights packed two per u32 (HF's [out, in]
// layout) and f32 activations, f32 accumulation. One workgroup computes ROWS rows for TOK tokens;
// its 64 threads stride over k eight weights (one 16-byte load) at a time, coalesced, and a fixed
// tree reduction finishes, so results are bit-identical run to run. Needs k % 8 == 0. Routed experts use the same kernel: input rows gathered through a
// token list, output rows scattered to (token, k) slots and scaled by the router weight.
// With GATE_UP the matrix holds gate rows then up rows and the output is silu(gate . x) * (up . x).
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
}

@group(0) @binding(0) var<storage, read> W: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> lists: array<u32>;
@group(0) @binding(5) var<storage, read> route_weights: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

override GATE_UP: bool = false;
const ROWS = 4u;
const TOK = 4u;
const WG = 64u;
const N = ROWS * TOK;
var<workgroup> red: array<f32, 2u * N * WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row0 = wid.x * ROWS;
  let tok0 = wid.y * TOK;
  // In units of 8 weights: one vec4<u32> of W, two vec4<f32> of x.
  let octs = p.cols / 8u;
  let w_base = p.w_offset / 4u;
  var src: array<u32, TOK>;
  var live: array<bool, TOK>;
  for (var tt = 0u; tt < TOK; tt++) {
    let t = tok0 + tt;
    live[tt] = t < p.tokens;
    var s = t;
    if (p.gather != 0u && live[tt]) { s = lists[p.gather_offset + t]; }
    src[tt] = (p.in_base + s * p.cols) / 4u;
  }
  var acc: array<f32, N>;
  var acc_up: array<f32, N>;
  for (var c = lid; c < octs; c += WG) {
    var xa: array<vec4<f32>, TOK>;
    var xb: array<vec4<f32>, TOK>;
    for (var tt = 0u; tt < TOK; tt++) {
      if (live[tt]) {
        xa[tt] = X[src[tt] + 2u * c];
        xb[tt] = X[src[tt] + 2u * c + 1u];
      }
    }
    for (var rr = 0u; rr < ROWS; rr++) {
      let r = row0 + rr;
      if (r >= p.rows) { break; }
      let w = W[w_base + r * octs + c];
      let wa = vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
      let wb = vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w));
      for (var tt = 0u; tt < TOK; tt++) { acc[rr * TOK + tt] += dot(wa, xa[tt]) + dot(wb, xb[tt]); }
      if (GATE_UP) {
        let u = W[w_base + (p.rows + r) * octs + c];
        let ua = vec4<f32>(unpack2x16float(u.x), unpack2x16float(u.y));
        let ub = vec4<f32>(unpack2x16float(u.z), unpack2x16float(u.w));
        for (var tt = 0u; tt < TOK; tt++) { acc_up[rr * TOK + tt] += dot(ua, xa[tt]) + dot(ub, xb[tt]); }
      }
    }
  }
  for (var i = 0u; i < N; i++) {
    red[i * WG + lid] = acc[i];
    red[(N + i) * WG + lid] = acc_up[i];
  }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      for (var i = 0u; i < 2u * N; i++) { red[i * WG + lid] += red[i * WG + lid + s]; }
    }
    workgroupBarrier();
  }
  if (lid < N) {
    let rr = lid / TOK;
    let tt = lid % TOK;
    let r = row0 + rr;
    let t = tok0 + tt;
    if (r < p.rows && t < p.tokens) {
      var v = red[lid * WG];
      if (GATE_UP) {
        v = v / (1.0 + exp(-v)) * red[(N + lid) * WG];
      }
      if (p.has_bias != 0u) { v += bias[r]; }
      var dst = t;
      if (p.scatter != 0u) { dst = lists[p.scatter_offset + t]; }
      if (p.scale_by_route != 0u) { v *= route_weights[dst]; }
      Y[p.out_base + dst * p.rows + r] = v;
    }
  }
}
