// Shared by the diagnostics kernels (prepended): the leading fields of the step parameters and a
// workgroup tree reduction of Q sums at once.
struct Params {
  nx: u32, ny: u32, ncols: u32, kmax_y: u32,
  model: u32, fields: u32, modified: u32, hyper: u32,
  dkx: f32, dky: f32, c1: f32, kappa: f32,
  nu: f32, drag: f32, dt: f32, integrating: u32,
}

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

