// Diagnostics kernel 2: sums the row sums and appends one sample of Q values to the ring the
// host reads back every few hundred steps.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> row_sums: array<f32>;
@group(0) @binding(2) var<storage, read_write> ring: array<f32>;
@group(0) @binding(3) var<storage, read_write> counter: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  for (var q = 0u; q < Q; q++) {
    var s = 0.0;
    for (var row = lid; row < p.ny; row += WG) {
      s += row_sums[row * Q + q];
    }
    partial[q * WG + lid] = s;
  }
  workgroupBarrier();
  sum_partials(lid);
  if (lid == 0u) {
    let slot = counter[0];
    for (var q = 0u; q < Q; q++) {
      ring[slot * Q + q] = partial[q * WG];
    }
    counter[0] = slot + 1u;
  }
}
