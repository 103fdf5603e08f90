// Diagnostics kernel 1 (same formulas as diagnostics.ts): one workgroup per ky row sums the
// per-mode quantities of that row, i.e. one bin of every ky-spectrum. The state is stored column
// by column (mode (row, col) at col·ny + row, gpuStepper.ts).
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> state: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> forcing: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> rowsums: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x;
  let size = p.ny * p.ncols;
  let sr = signed_row(row, p.ny);
  let kept = u32(abs(sr)) <= p.kmax_y;
  let ky = f32(sr) * p.dky;
  var sums = array<f32, 8>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  for (var col = lid; col < p.ncols; col += WG) {
    if (!kept) {
      break;
    }
    let i = col * p.ny + row;
    let kx = f32(col) * p.dkx;
    let k2 = kx * kx + ky * ky;
    let weight = select(2.0, 1.0, col == 0u || 2u * col == p.nx);
    let damping = -diagonal_rate(k2);
    if (p.model == 0u) {
      let n = state[i];
      let w = state[size + i];
      let phi = select(vec2<f32>(0.0), -w / k2, k2 > 0.0);
      let n2 = dot(n, n);
      let phi2 = dot(phi, phi);
      let u = n - w;
      let cdiff = n - phi;
      let c = select(p.c1, 0.0, p.modified == 1u && row == 0u);
      sums[0] += weight * 0.5 * n2;
      sums[1] += weight * 0.5 * k2 * phi2;
      sums[2] += weight * 0.5 * dot(u, u);
      sums[3] += weight * ky * (n.x * phi.y - n.y * phi.x);
      sums[4] += weight * c * dot(cdiff, cdiff);
      sums[5] += weight * damping * (n2 + k2 * phi2);
      sums[6] += weight * damping * dot(u, u);
    } else {
      let w = state[i];
      let psi = select(vec2<f32>(0.0), -w / k2, k2 > 0.0);
      let f = forcing[i];
      sums[0] += weight * 0.5 * k2 * dot(psi, psi);
      sums[1] += weight * 0.5 * dot(w, w);
      sums[2] += weight * damping * k2 * dot(psi, psi);
      sums[3] += weight * damping * dot(w, w);
      sums[4] += -weight * dot(psi, f);
      sums[5] += weight * dot(w, f);
    }
  }
  for (var q = 0u; q < Q; q++) {
    partial[q * WG + lid] = sums[q];
  }
  workgroupBarrier();
  sum_partials(lid);
  if (lid < Q) {
    rowsums[row * Q + lid] = partial[lid * WG];
  }
}

