// The sources the row kernel transforms, per mode, shared by kernel 1 (columns_inverse.wgsl) and
// kernel 3's fused tail (columns_update.wgsl): 0 φ̂ = −Ω̂/k² (NS: ψ̂ = −ω̂/k²), 1 i·ky φ̂,
// 2f+2 field f, 2f+3 i·ky field f. Each kernel declares `p: Params`.

// The stored field source `source` derives from (φ from the vorticity: HW field 1, NS field 0).
fn source_field(source: u32) -> u32 {
  if (source < 2u) {
    return select(0u, 1u, MODEL == 0u);
  }
  return source / 2u - 1u;
}

// Source `source` at mode (row, col) from the value v of its field there.
fn source_value(source: u32, v: vec2<f32>, row: u32, col: u32) -> vec2<f32> {
  let ky = f32(signed_row(row, NY)) * p.dky;
  var out = v;
  if (source < 2u) {
    let kx = f32(col) * p.dkx;
    let k2 = kx * kx + ky * ky;
    out = select(vec2<f32>(0.0), -v / max(k2, 1e-30), k2 > 0.0);
  }
  if ((source & 1u) == 1u) {
    out = times_ik(out, ky);
  }
  return out;
}
