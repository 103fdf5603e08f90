// Step kernel 2, one workgroup per grid row y: inverse real FFTs along x of ∂xφ, ∂yφ and, per
// field f, ∂xf and ∂yf (∂x as i·kx here); the bracket [φ, f] = ∂xφ ∂yf − ∂yφ ∂xf in shared memory;
// its forward real FFT; the stored columns written out. Real rows of length nx live packed as
// nx/2 complex values (x[2j] + i x[2j+1]) and transform as complex FFTs of length m = nx/2.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tw: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> cols: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> prod: array<vec2<f32>>;

fn load_mode(base: u32, k: u32, times_ikx: bool) -> vec2<f32> {
  if (k >= p.ncols) {
    return vec2<f32>(0.0);
  }
  var v = cols[base + k];
  if (times_ikx) {
    v = times_ik(v, f32(k) * p.dkx);
  }
  return v;
}

// Inverse real FFT of source row `row` into packed real values at sh[region..region+m).
fn inverse_row(source: u32, row: u32, times_ikx: bool, region: u32, lid: u32) {
  let m = p.nx / 2u;
  let base = source * p.ny * p.ncols + row * p.ncols;
  for (var k = lid; k < m; k += WG) {
    let x = load_mode(base, k, times_ikx);
    let c = cconj(load_mode(base, m - k, times_ikx));
    let a = x + c;
    let b = cmul(x - c, cconj(tw[p.tw_real + k]));
    sh[region + bitrev(k, p.log_m)] = vec2<f32>(a.x - b.y, a.y + b.x);
  }
  workgroupBarrier();
  fft_shared(region, 1u, p.log_m, p.tw_row, true, lid);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x;
  let m = p.nx / 2u;
  let size = p.ny * p.ncols;
  let px = 0u;
  let py = m;
  let w = 2u * m;
  let pr = 3u * m;
  inverse_row(0u, row, true, px, lid);
  inverse_row(1u, row, false, py, lid);
  for (var f = 0u; f < p.fields; f++) {
    inverse_row(2u * f + 2u, row, true, w, lid);
    for (var j = lid; j < m; j += WG) {
      sh[pr + bitrev(j, p.log_m)] = -sh[py + j] * sh[w + j];
    }
    workgroupBarrier();
    inverse_row(2u * f + 3u, row, false, w, lid);
    for (var j = lid; j < m; j += WG) {
      let r = pr + bitrev(j, p.log_m);
      sh[r] = sh[r] + sh[px + j] * sh[w + j];
    }
    workgroupBarrier();
    fft_shared(pr, 1u, p.log_m, p.tw_row, false, lid);
    for (var k = lid; k < p.ncols; k += WG) {
      let zk = sh[pr + (k % m)];
      let zc = cconj(sh[pr + ((m - k) % m)]);
      let e = 0.5 * (zk + zc);
      let d = zk - zc;
      let o = vec2<f32>(0.5 * d.y, -0.5 * d.x);
      prod[f * size + row * p.ncols + k] = e + cmul(tw[p.tw_real + k], o);
    }
    workgroupBarrier();
  }
}
