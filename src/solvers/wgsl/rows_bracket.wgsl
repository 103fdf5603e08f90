// Step kernel 2, one workgroup per grid row y: inverse real FFTs along x of ∂xφ, ∂yφ and, per
// field f, ∂xf and ∂yf (∂x as i·kx here); the bracket [φ, f] = ∂xφ ∂yf − ∂yφ ∂xf in shared memory;
// the forward real FFTs of all brackets together; the stored columns written out. Real rows of
// length nx live packed as m = nx/2 complex values (x[2j] + i x[2j+1]) and transform as complex
// FFTs of length m. Shared regions of padded_length(m) values: 0 ∂xφ, 1 ∂yφ, 2 ∂xf, 3 ∂yf,
// 4 − 2f bracket of f.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tw: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> cols: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> prod: array<vec2<f32>>;

fn load_mode(base: u32, k: u32, times_ikx: bool) -> vec2<f32> {
  if (k >= NCOLS) {
    return vec2<f32>(0.0);
  }
  var v = cols[base + k];
  if (times_ikx) {
    v = times_ik(v, f32(k) * p.dkx);
  }
  return v;
}

// Inverse real FFTs of row `row` of sources `first` (times i·kx) and `first + 1` into packed real
// values in regions `region` and `region + 1`.
fn inverse_pair(first: u32, row: u32, region: u32, lid: u32) {
  let m = NX / 2u;
  let mp = padded_length(m);
  for (var e = lid; e < 2u * m; e += WG) {
    let t = e >> LOG_M;
    let k = e & (m - 1u);
    let base = (first + t) * NY * NCOLS + row * NCOLS;
    let x = load_mode(base, k, t == 0u);
    let c = cconj(load_mode(base, m - k, t == 0u));
    let a = x + c;
    let b = cmul(x - c, cconj(tw[p.tw_real + k]));
    sh[(region + t) * mp + padded(k)] = vec2<f32>(a.x - b.y, a.y + b.x);
  }
  workgroupBarrier();
  fft_shared(region * mp, mp, 2u, LOG_M, p.tw_row, true, lid);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x;
  let m = NX / 2u;
  let mp = padded_length(m);
  let size = NY * NCOLS;
  inverse_pair(0u, row, 0u, lid);
  for (var f = 0u; f < FIELDS; f++) {
    inverse_pair(2u * f + 2u, row, 2u, lid);
    let out = (4u - 2u * f) * mp;
    for (var j = lid; j < m; j += WG) {
      let i = padded(j);
      sh[out + i] = sh[i] * sh[3u * mp + i] - sh[mp + i] * sh[2u * mp + i];
    }
    workgroupBarrier();
  }
  let first = (6u - 2u * FIELDS) * mp;
  fft_shared(first, 2u * mp, FIELDS, LOG_M, p.tw_row, false, lid);
  for (var e = lid; e < FIELDS * NCOLS; e += WG) {
    let f = e / NCOLS;
    let k = e % NCOLS;
    let region = (4u - 2u * f) * mp;
    let zk = sh[region + padded(k % m)];
    let zc = cconj(sh[region + padded((m - k) % m)]);
    let h = 0.5 * (zk + zc);
    let d = zk - zc;
    let o = vec2<f32>(0.5 * d.y, -0.5 * d.x);
    prod[f * size + row * NCOLS + k] = h + cmul(tw[p.tw_real + k], o);
  }
}
