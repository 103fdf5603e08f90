// Step kernel 3, one workgroup per C stored columns of one field (workgroup y): forward FFT
// along y of that field's bracket, then per mode the RHS (−[φ,f] + linear terms + forcing) and
// the RK4 / IF-RK4 stage update (see integrator.ts):
//   next = E^a u + dt β E^b k,  acc = acc·(not first) + γ E^c k,  final: u = E² u + dt/6 (acc + k).
// The kx = 0 column of the bracket is made exactly Hermitian, so the state stays so.
// The stage input is read from `input` and the next one written to `next` (two buffers that
// alternate between stages), since both fields' workgroups read both fields' inputs.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tw: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> prod: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> state: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> input: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> next: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> acc: array<vec2<f32>>;
@group(0) @binding(7) var<storage, read> forcing: array<vec2<f32>>;
// EHW-C closure (HW only, when CLOSURE = 1): per mode d/dt (n, Ω) += [[x, y], [z, w]] (n, Ω).
@group(0) @binding(8) var<storage, read> closure: array<vec4<f32>>;

override C: u32 = 1u;
override CLOSURE: u32 = 0u;

fn power(e: f32, n: u32) -> f32 {
  return select(select(e * e, e, n == 1u), 1.0, n == 0u);
}

fn stage_input(i: u32) -> vec2<f32> {
  if (p.first_stage == 1u) {
    return state[i];
  }
  return input[i];
}

fn update(i: u32, k: vec2<f32>, e: f32) {
  let u = state[i];
  if (p.final_stage == 1u) {
    state[i] = e * e * u + (p.dt / 6.0) * (acc[i] + k);
    return;
  }
  next[i] = power(e, p.pow_a) * u + (p.dt * p.beta * power(e, p.pow_b)) * k;
  let previous = select(acc[i], vec2<f32>(0.0), p.first_stage == 1u);
  acc[i] = previous + (p.gamma * power(e, p.pow_c)) * k;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col0 = wg.x * C;
  let field = wg.y;
  let size = NY * NCOLS;
  let stride = padded_length(NY) + 1u;
  for (var e = lid; e < C * NY; e += WG) {
    let t = e % C;
    let row = e / C;
    let col = col0 + t;
    var v = vec2<f32>(0.0);
    if (col < NCOLS) {
      v = prod[field * size + row * NCOLS + col];
    }
    sh[t * stride + padded(row)] = v;
  }
  workgroupBarrier();
  fft_shared(0u, stride, C, LOG_NY, p.tw_col, false, lid);
  for (var e = lid; e < C * NY; e += WG) {
    let t = e % C;
    let row = e / C;
    let col = col0 + t;
    if (col >= NCOLS) {
      continue;
    }
    let i = row * NCOLS + col;
    let sr = signed_row(row, NY);
    let kept = u32(abs(sr)) <= p.kmax_y;
    let ky = f32(sr) * p.dky;
    let kx = f32(col) * p.dkx;
    let k2 = kx * kx + ky * ky;
    let rate = diagonal_rate(k2);
    let e_half = select(1.0, exp(rate * p.dt * 0.5), p.integrating == 1u);
    let explicit_rate = select(rate, 0.0, p.integrating == 1u);
    var bracket = p.scale * sh[t * stride + padded(row)];
    if (col == 0u) {
      // Hermitian part of the kx = 0 column (hermitianColumnZero in grid.ts says why).
      let mirror = p.scale * sh[t * stride + padded((NY - row) % NY)];
      bracket = 0.5 * (bracket + cconj(mirror));
    }
    let own = stage_input(field * size + i);
    var k = -bracket + explicit_rate * own;
    if (MODEL == 0u) {
      let n = stage_input(i);
      let w = stage_input(size + i);
      let phi = select(vec2<f32>(0.0), -w / k2, k2 > 0.0);
      let c = select(p.c1, 0.0, p.modified == 1u && row == 0u);
      k += c * (phi - n);
      if (CLOSURE == 1u) {
        let m = closure[i];
        k += select(m.z * n + m.w * w, m.x * n + m.y * w, field == 0u);
      }
      if (field == 0u) {
        k += p.kappa * vec2<f32>(ky * phi.y, -ky * phi.x);
      } else if (i == 0u) {
        k = vec2<f32>(0.0);
      }
    } else {
      k += forcing[i];
    }
    if (!kept) {
      k = vec2<f32>(0.0);
    }
    update(field * size + i, k, e_half);
  }
}
