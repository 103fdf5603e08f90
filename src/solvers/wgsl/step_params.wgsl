// The step parameters (one 256-byte uniform slot per RK4 stage) and the per-mode helpers every
// solver kernel shares (prepended to each kernel; each declares `p: Params` at binding 0).
struct Params {
  nx: u32, ny: u32, ncols: u32, kmax_y: u32,
  model: u32, fields: u32, modified: u32, hyper: u32,
  dkx: f32, dky: f32, c1: f32, kappa: f32,
  nu: f32, drag: f32, dt: f32, integrating: u32,
  final_stage: u32, pow_a: u32, pow_b: u32, pow_c: u32,
  beta: f32, gamma: f32, scale: f32, first_stage: u32,
  log_ny: u32, log_m: u32, tw_col: u32, tw_row: u32,
  tw_real: u32, pad0: u32, pad1: u32, pad2: u32,
}

fn signed_row(row: u32, ny: u32) -> i32 {
  return select(i32(row), i32(row) - i32(ny), row > ny / 2u);
}

// The diagonal linear rate L(k) <= 0 (model.ts diagonalRate): −ν k^{2N} (HW), −(ν k² + μ) (NS).
fn diagonal_rate(k2: f32) -> f32 {
  if (p.model == 0u) {
    var k2n = 1.0;
    for (var q = 0u; q < p.hyper; q++) {
      k2n = k2n * k2;
    }
    return -p.nu * k2n;
  }
  return -(p.nu * k2 + p.drag);
}
