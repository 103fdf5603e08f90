// Step kernel 3, one workgroup per C stored columns of one field (workgroup y): forward FFT
// along y of that field's bracket, then per mode the RHS (−[φ,f] + linear terms + forcing) and
// the RK4 / IF-RK4 stage update (see integrator.ts):
//   next = E^a u + dt β E^b k,  acc = acc·(not first) + γ E^c k,  final: u = E² u + dt/6 (acc + k).
// The kx = 0 column of the bracket is made exactly Hermitian, so the state stays so.
// The stage input is read from `input` and the next one written to `next` (two buffers that
// alternate between stages), since both fields' workgroups read both fields' inputs. All per-mode
// arrays are stored column by column (mode (row, col) at col·NY + row), so a workgroup's C columns
// are one contiguous run; only the brackets `prod` come row by row from the row kernel.
// COUPLED = 1 (HW with IF-RK4): E is the 2x2 propagator of all linear terms (propagator.ts), so
// each workgroup transforms both fields' brackets of its C columns and updates (n, Ω) together;
// k is then the brackets alone.
// FUSED = 1: the workgroup then does kernel 1's work for the next stage on its C columns: the
// sources (columns_sources.wgsl) of its fields, from the stage input it just wrote (or the new
// state after the final stage, the next step's first input), inverse-transformed into `cols`.
// A step is then 8 dispatches instead of 12; the host sizes the workgroup for all those sources.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tw: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> prod: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> state: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> input: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> next: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> acc: array<vec2<f32>>;
@group(0) @binding(7) var<storage, read> forcing: array<vec2<f32>>;
// Per-mode linear data: with CLOSURE = 1 the EHW-C closure, d/dt (n, Ω) += [[x, y], [z, w]] (n, Ω);
// with COUPLED = 1 the propagator E, rows (E00, E01) and (E10, E11) as two vec4 (re, im pairs).
@group(0) @binding(8) var<storage, read> linear: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read_write> cols: array<vec2<f32>>;

override C: u32 = 1u;
override CLOSURE: u32 = 0u;
override COUPLED: u32 = 0u;
override FUSED: u32 = 0u;

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

// E^power (n, Ω) at mode i.
fn propagate(i: u32, power: u32, v: array<vec2<f32>, 2>) -> array<vec2<f32>, 2> {
  let r0 = linear[2u * i];
  let r1 = linear[2u * i + 1u];
  var x = v;
  for (var q = 0u; q < power; q++) {
    x = array<vec2<f32>, 2>(
      cmul(r0.xy, x[0]) + cmul(r0.zw, x[1]),
      cmul(r1.xy, x[0]) + cmul(r1.zw, x[1]),
    );
  }
  return x;
}

fn coupled_update(i: u32, k: array<vec2<f32>, 2>) {
  let o = NY * NCOLS;
  let u = array<vec2<f32>, 2>(state[i], state[o + i]);
  if (p.final_stage == 1u) {
    let eu = propagate(i, 2u, u);
    state[i] = eu[0] + (p.dt / 6.0) * (acc[i] + k[0]);
    state[o + i] = eu[1] + (p.dt / 6.0) * (acc[o + i] + k[1]);
    return;
  }
  let eu = propagate(i, p.pow_a, u);
  let eb = propagate(i, p.pow_b, k);
  next[i] = eu[0] + (p.dt * p.beta) * eb[0];
  next[o + i] = eu[1] + (p.dt * p.beta) * eb[1];
  let ec = propagate(i, p.pow_c, k);
  let first = p.first_stage == 1u;
  acc[i] = select(acc[i], vec2<f32>(0.0), first) + p.gamma * ec[0];
  acc[o + i] = select(acc[o + i], vec2<f32>(0.0), first) + p.gamma * ec[1];
}

// The bracket of column slot t (shared memory) at `row`, scaled, with the kx = 0 column made
// Hermitian (hermitianColumnZero in grid.ts says why).
fn bracket_at(t: u32, row: u32, col: u32, stride: u32) -> vec2<f32> {
  let b = p.scale * sh[t * stride + padded(row)];
  if (col != 0u) {
    return b;
  }
  let mirror = p.scale * sh[t * stride + padded((NY - row) % NY)];
  return 0.5 * (b + cconj(mirror));
}

// Loads columns col0..col0+C−1 of `fields` consecutive bracket fields from `first` on into
// shared-memory slots (field f in slots f·C..f·C+C−1) and inverse-transforms them along y.
fn inverse_columns(col0: u32, lid: u32, first: u32, fields: u32) {
  let size = NY * NCOLS;
  let stride = padded_length(NY) + 1u;
  let slots = fields * C;
  for (var e = lid; e < slots * NY; e += WG) {
    let t = e % slots;
    let row = e / slots;
    let col = col0 + t % C;
    var v = vec2<f32>(0.0);
    if (col < NCOLS) {
      v = prod[(first + t / C) * size + row * NCOLS + col];
    }
    sh[t * stride + padded(row)] = v;
  }
  workgroupBarrier();
  fft_shared(0u, stride, slots, LOG_NY, p.tw_col, false, lid);
}

// COUPLED = 1: slots 0..C−1 hold n's bracket columns, C..2C−1 Ω's.
fn main_coupled(col0: u32, lid: u32) {
  let stride = padded_length(NY) + 1u;
  inverse_columns(col0, lid, 0u, 2u);
  for (var e = lid; e < C * NY; e += WG) {
    let t = e >> LOG_NY;
    let row = e & (NY - 1u);
    let col = col0 + t;
    if (col >= NCOLS) {
      continue;
    }
    let i = col * NY + row;
    let kept = u32(abs(signed_row(row, NY))) <= p.kmax_y;
    var k = array<vec2<f32>, 2>(-bracket_at(t, row, col, stride), -bracket_at(t + C, row, col, stride));
    if (i == 0u) {
      k[1] = vec2<f32>(0.0);
    }
    if (!kept) {
      k = array<vec2<f32>, 2>(vec2<f32>(0.0), vec2<f32>(0.0));
    }
    coupled_update(i, k);
  }
}

// FUSED = 1: the next stage's sources of fields lo..hi−1 on columns col0..col0+C−1 (kernel 1 for
// those columns), after this workgroup's own writes of the stage input are visible to it.
fn fused_sources(col0: u32, lid: u32, lo: u32, hi: u32) {
  storageBarrier();
  workgroupBarrier();
  let size = NY * NCOLS;
  let stride = padded_length(NY) + 1u;
  var list: array<u32, 6>;
  var count = 0u;
  for (var s = 0u; s < 2u * (FIELDS + 1u); s++) {
    let f = source_field(s);
    if (f >= lo && f < hi) {
      list[count] = s;
      count++;
    }
  }
  let final_stage = p.final_stage == 1u;
  for (var e = lid; e < count * C * NY; e += WG) {
    let slot = e >> LOG_NY;
    let row = e & (NY - 1u);
    let source = list[slot / C];
    let col = col0 + slot % C;
    var v = vec2<f32>(0.0);
    if (col < NCOLS) {
      let i = source_field(source) * size + col * NY + row;
      v = source_value(source, select(next[i], state[i], final_stage), row, col);
    }
    sh[slot * stride + padded(row)] = v;
  }
  workgroupBarrier();
  fft_shared(0u, stride, count * C, LOG_NY, p.tw_col, true, lid);
  for (var e = lid; e < count * C * NY; e += WG) {
    let t = e % C;
    let row = (e / C) % NY;
    let rank = e / (C * NY);
    let col = col0 + t;
    if (col < NCOLS) {
      cols[list[rank] * size + row * NCOLS + col] = sh[(rank * C + t) * stride + padded(row)];
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col0 = wg.x * C;
  if (COUPLED == 1u) {
    main_coupled(col0, lid);
    if (FUSED == 1u) {
      fused_sources(col0, lid, 0u, FIELDS);
    }
    return;
  }
  let field = wg.y;
  let size = NY * NCOLS;
  let stride = padded_length(NY) + 1u;
  inverse_columns(col0, lid, field, 1u);
  for (var e = lid; e < C * NY; e += WG) {
    let t = e >> LOG_NY;
    let row = e & (NY - 1u);
    let col = col0 + t;
    if (col >= NCOLS) {
      continue;
    }
    let i = col * NY + row;
    let sr = signed_row(row, NY);
    let kept = u32(abs(sr)) <= p.kmax_y;
    let ky = f32(sr) * p.dky;
    let kx = f32(col) * p.dkx;
    let k2 = kx * kx + ky * ky;
    let rate = diagonal_rate(k2);
    let e_half = select(1.0, exp(rate * p.dt * 0.5), p.integrating == 1u);
    let explicit_rate = select(rate, 0.0, p.integrating == 1u);
    let bracket = bracket_at(t, row, col, stride);
    let own = stage_input(field * size + i);
    var k = -bracket + explicit_rate * own;
    if (MODEL == 0u) {
      let n = stage_input(i);
      let w = stage_input(size + i);
      let phi = select(vec2<f32>(0.0), -w / k2, k2 > 0.0);
      let c = select(p.c1, 0.0, p.modified == 1u && row == 0u);
      k += c * (phi - n);
      if (CLOSURE == 1u) {
        let m = linear[i];
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
  if (FUSED == 1u) {
    fused_sources(col0, lid, field, field + 1u);
  }
}
