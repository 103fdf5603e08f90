// Standalone use of fft_shared (spectral_common.wgsl, prepended): one workgroup transforms one
// sequence of 2^BITS complex values in place, so the solver's FFT can be checked directly
// against the float64 reference (test/solvers/gpuFft.test.ts).
@group(0) @binding(0) var<storage, read> tw: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> data: array<vec2<f32>>;

override BITS: u32 = 1u;
override INVERSE: bool = false;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = 1u << BITS;
  let base = wg.x * n;
  for (var i = lid; i < n; i += WG) {
    sh[padded(i)] = data[base + i];
  }
  workgroupBarrier();
  fft_shared(0u, padded_length(n), 1u, BITS, 0u, INVERSE, lid);
  for (var i = lid; i < n; i += WG) {
    data[base + i] = sh[padded(i)];
  }
}
