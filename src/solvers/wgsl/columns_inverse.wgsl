// Step kernel 1: inverse FFT along y of C stored columns of one source (columns_sources.wgsl)
// per workgroup (workgroup y). With kernel 3 fused (FUSED there), it runs only before the first
// step after the state was set; kernel 3 then prepares every later stage's sources. The fields
// are stored column by column (gpuStepper.ts), so the loads are contiguous; the output `cols` is
// row by row for the row kernel, written C columns of a row at a time. Column t lives at
// sh[t·stride ..] with an odd stride so the row-wise writes do not collide in banks.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tw: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> fields: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> cols: array<vec2<f32>>;

override C: u32 = 1u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let source = wg.y;
  let col0 = wg.x * C;
  let size = NY * NCOLS;
  let stride = padded_length(NY) + 1u;
  let which = source_field(source);
  for (var e = lid; e < C * NY; e += WG) {
    let t = e >> LOG_NY;
    let row = e & (NY - 1u);
    let col = col0 + t;
    var v = vec2<f32>(0.0);
    if (col < NCOLS) {
      v = source_value(source, fields[which * size + col * NY + row], row, col);
    }
    sh[t * stride + padded(row)] = v;
  }
  workgroupBarrier();
  fft_shared(0u, stride, C, LOG_NY, p.tw_col, true, lid);
  for (var e = lid; e < C * NY; e += WG) {
    let t = e % C;
    let row = e / C;
    let col = col0 + t;
    if (col < NCOLS) {
      cols[source * size + row * NCOLS + col] = sh[t * stride + padded(row)];
    }
  }
}
