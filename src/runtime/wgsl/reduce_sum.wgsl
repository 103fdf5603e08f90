// Sum of an f32 array in two passes: each workgroup writes the sum of its grid-stride share to
// partials[workgroup], then one workgroup of the same kernel sums the partials. Pairwise (tree)
// summation in workgroup memory keeps the f32 rounding error near O(log n) eps.
struct Params {
  count: u32,
}

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const WORKGROUP_SIZE: u32 = 256u;
var<workgroup> scratch: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  var acc = 0.0;
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = wid.x * WORKGROUP_SIZE + lid; i < params.count; i += stride) {
    acc += values[i];
  }
  scratch[lid] = acc;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
    if (lid < half) {
      scratch[lid] += scratch[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    partials[wid.x] = scratch[0];
  }
}
