// Router: softmax over the E expert logits of each token (f32), top-k by probability (ties go to the
// lower index, as in the TS reference), optionally renormalised to sum to one. Writes expert ids
// and mixing weights, k per token; the ids are read back to decide which experts must be resident.
struct Params {
  tokens: u32,
  experts: u32,
  top_k: u32,
  normalize: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> weights: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  if (t >= p.tokens) { return; }
  let base = t * p.experts;
  var m = -3.0e38;
  for (var e = 0u; e < p.experts; e++) { m = max(m, logits[base + e]); }
  var total = 0.0;
  for (var e = 0u; e < p.experts; e++) { total += exp(logits[base + e] - m); }
  var picked = 0.0;
  for (var j = 0u; j < p.top_k; j++) {
    var best = 0u;
    var best_p = -1.0;
    for (var e = 0u; e < p.experts; e++) {
      var taken = false;
      for (var i = 0u; i < j; i++) { taken = taken || ids[t * p.top_k + i] == e; }
      let prob = exp(logits[base + e] - m) / total;
      if (!taken && prob > best_p) { best = e; best_p = prob; }
    }
    ids[t * p.top_k + j] = best;
    weights[t * p.top_k + j] = best_p;
    picked += best_p;
  }
  if (p.normalize != 0u) {
    for (var j = 0u; j < p.top_k; j++) { weights[t * p.top_k + j] /= picked; }
  }
}
