// dst = scale * src over vec4<f32>: the read-once write-once streaming kernel that sets the
// bandwidth roofline every solver step is measured against. Grid-stride loop so any dispatch size
// covers any length.
struct Params {
  count4: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

override WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = gid.x; i < params.count4; i += stride) {
    dst[i] = params.scale * src[i];
  }
}
