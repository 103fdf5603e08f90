// Shared by the diagnostics kernels (prepended, after step_params.wgsl): a workgroup tree
// reduction of Q sums at once.

const Q: u32 = 8u;
const WG: u32 = 256u;
var<workgroup> partial: array<f32, 2048>;

fn sum_partials(lid: u32) {
  for (var width = WG / 2u; width > 0u; width = width / 2u) {
    if (lid < width) {
      for (var q = 0u; q < Q; q++) {
        partial[q * WG + lid] = partial[q * WG + lid] + partial[q * WG + lid + width];
      }
    }
    workgroupBarrier();
  }
}

