// Step kernel 2, one workgroup per grid row y: inverse real FFTs along x of ∂xφ, ∂yφ and, per
// field f, ∂xf and ∂yf (∂x as i·kx here); the bracket [φ, f] = ∂xφ ∂yf − ∂yφ ∂xf in shared memory;
// the forward real FFTs of all brackets together; the stored columns written out. Real rows of
// length nx live packed as m = nx/2 complex values (x[2j] + i x[2j+1]) and transform as complex
// FFTs of length m. Shared memory holds 3 + FIELDS regions of padded_length(m) values. A
// barrier-separated FFT pass costs about the same for one transform or four, so the transforms go
// in batches: φ's and the first field's pair in regions 0-3 (one inverse batch), its bracket into
// region 2; for HW then Ω's pair into regions 3-4 (a second batch), its bracket into region 3; the
// brackets in regions 2..2+FIELDS in one forward batch. (All six HW sources in one batch measured
// slower at 512² and 1024² on the H100: the larger workgroups fit fewer to a multiprocessor.)
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

// Packs the half spectra of row `row` of `pairs` source pairs from `first` on (the first of each
// pair times i·kx) for inverse complex FFTs of length m into regions region.. (no barrier).
fn load_pairs(first: u32, pairs: u32, row: u32, region: u32, lid: u32) {
  let m = NX / 2u;
  let mp = padded_length(m);
  for (var e = lid; e < 2u * pairs * m; e += WG) {
    let t = e >> LOG_M;
    let k = e & (m - 1u);
    let base = (first + t) * NY * NCOLS + row * NCOLS;
    let x = load_mode(base, k, (t & 1u) == 0u);
    let c = cconj(load_mode(base, m - k, (t & 1u) == 0u));
    let a = x + c;
    let b = cmul(x - c, cconj(tw[p.tw_real + k]));
    sh[(region + t) * mp + padded(k)] = vec2<f32>(a.x - b.y, a.y + b.x);
  }
}

fn inverse_batch(region: u32, count: u32, lid: u32) {
  let mp = padded_length(NX / 2u);
  workgroupBarrier();
  fft_shared(region * mp, mp, count, LOG_M, p.tw_row, true, lid);
}

// Bracket of φ (regions 0, 1) with the field whose ∂x, ∂y are in regions `dx`, `dy`, into `out`
// (which may be dx or dy: each thread reads and writes the same positions).
fn bracket(dx: u32, dy: u32, out: u32, lid: u32) {
  let mp = padded_length(NX / 2u);
  for (var j = lid; j < NX / 2u; j += WG) {
    let i = padded(j);
    sh[out * mp + i] = sh[i] * sh[dy * mp + i] - sh[mp + i] * sh[dx * mp + i];
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x;
  let m = NX / 2u;
  let mp = padded_length(m);
  let size = NY * NCOLS;
  load_pairs(0u, 2u, row, 0u, lid);
  inverse_batch(0u, 4u, lid);
  bracket(2u, 3u, 2u, lid);
  if (FIELDS == 2u) {
    workgroupBarrier();
    load_pairs(4u, 1u, row, 3u, lid);
    inverse_batch(3u, 2u, lid);
    bracket(3u, 4u, 3u, lid);
  }
  workgroupBarrier();
  fft_shared(2u * mp, mp, FIELDS, LOG_M, p.tw_row, false, lid);
  for (var e = lid; e < FIELDS * NCOLS; e += WG) {
    let f = e / NCOLS;
    let k = e % NCOLS;
    let region = (2u + f) * mp;
    let zk = sh[region + padded(k % m)];
    let zc = cconj(sh[region + padded((m - k) % m)]);
    let h = 0.5 * (zk + zc);
    let d = zk - zc;
    let o = vec2<f32>(0.5 * d.y, -0.5 * d.x);
    prod[f * size + row * NCOLS + k] = h + cmul(tw[p.tw_real + k], o);
  }
}
