// The closed-form 2x2 matrix exponential against scaling-and-squaring Taylor series (an
// independent method) and closed cases, and the HW propagator against the dispersion relation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpectralGrid } from '../../src/spectral/grid.ts';
import { uniformGenerator } from '../../src/spectral/random.ts';
import { hwDispersion } from '../../src/solvers/linear.ts';
import { type HwParams, hwLinearOperator, type Matrix2 } from '../../src/solvers/model.ts';
import { applyPropagator, expm2, hwPropagators } from '../../src/solvers/propagator.ts';

type C = [number, number];
const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];

function matmul(x: Matrix2, y: Matrix2): Matrix2 {
  const entry = (r: number, c: number): C => {
    const a = cmul(x[2 * r]!, y[c]!);
    const b = cmul(x[2 * r + 1]!, y[2 + c]!);
    return [a[0] + b[0], a[1] + b[1]];
  };
  return [entry(0, 0), entry(0, 1), entry(1, 0), entry(1, 1)];
}

/** exp(A) by scaling to norm < 0.5, a 20-term Taylor series and repeated squaring. */
function taylorExpm(a: Matrix2): Matrix2 {
  const norm = Math.max(...a.map(([re, im]) => Math.hypot(re, im)));
  const squarings = Math.max(0, Math.ceil(Math.log2(norm / 0.5)));
  const scaled = a.map(([re, im]) => [re / 2 ** squarings, im / 2 ** squarings]) as Matrix2;
  let term: Matrix2 = [
    [1, 0],
    [0, 0],
    [0, 0],
    [1, 0],
  ];
  let sum = term.map((z) => [...z]) as Matrix2;
  for (let n = 1; n <= 20; n++) {
    term = matmul(term, scaled).map(([re, im]) => [re / n, im / n]) as Matrix2;
    sum = sum.map((z, j) => [z[0] + term[j]![0], z[1] + term[j]![1]]) as Matrix2;
  }
  for (let s = 0; s < squarings; s++) sum = matmul(sum, sum);
  return sum;
}

function assertClose(x: Matrix2, y: Matrix2, tolerance: number, label: string) {
  const scale = Math.max(1e-300, ...y.map(([re, im]) => Math.hypot(re, im)));
  x.forEach((z, j) => {
    const error = Math.hypot(z[0] - y[j]![0], z[1] - y[j]![1]) / scale;
    assert.ok(error < tolerance, `${label}: entry ${j} ${z} vs ${y[j]} (error ${error})`);
  });
}

const HW: HwParams = { kind: 'hw', c1: 1, kappa: 1, nu: 1e-3, hyperOrder: 2, modified: false };

describe('2x2 complex matrix exponential', () => {
  it('matches scaling-and-squaring Taylor on random complex matrices (1e-12)', () => {
    const random = uniformGenerator(7);
    for (let trial = 0; trial < 50; trial++) {
      const a = Array.from({ length: 4 }, () => [
        4 * (random() - 0.5),
        4 * (random() - 0.5),
      ]) as Matrix2;
      assertClose(expm2(a), taylorExpm(a), 1e-12, `trial ${trial}`);
    }
  });

  it('is exact on closed cases: a nilpotent matrix, a multiple of I, a rotation', () => {
    assertClose(
      expm2([
        [0, 0],
        [1, 0],
        [0, 0],
        [0, 0],
      ]),
      [
        [1, 0],
        [1, 0],
        [0, 0],
        [1, 0],
      ],
      1e-15,
      'nilpotent',
    );
    assertClose(
      expm2([
        [-3, 1],
        [0, 0],
        [0, 0],
        [-3, 1],
      ]),
      [
        [Math.exp(-3) * Math.cos(1), Math.exp(-3) * Math.sin(1)],
        [0, 0],
        [0, 0],
        [Math.exp(-3) * Math.cos(1), Math.exp(-3) * Math.sin(1)],
      ],
      1e-15,
      'scalar',
    );
    const t = 0.7;
    assertClose(
      expm2([
        [0, 0],
        [-t, 0],
        [t, 0],
        [0, 0],
      ]),
      [
        [Math.cos(t), 0],
        [-Math.sin(t), 0],
        [Math.sin(t), 0],
        [Math.cos(t), 0],
      ],
      1e-15,
      'rotation',
    );
  });

  it('stays accurate on the stiff adiabatic mode (c1 = 5, k = k0, eigenvalue −227)', () => {
    const k = 0.15;
    const l = hwLinearOperator({ ...HW, c1: 5 }, k * k, k, false);
    const a = l.map(([re, im]) => [re * 0.05, im * 0.05]) as Matrix2;
    assertClose(expm2(a), taylorExpm(a), 1e-11, 'stiff');
  });
});

describe('HW propagator', () => {
  it('advances the unstable eigenmode by exp(−iω dt/2) of the dispersion relation', () => {
    const box = (2 * Math.PI) / 0.15;
    const grid = new SpectralGrid({ nx: 32, ny: 32, lx: box, ly: box, dealias: '2/3' });
    const dt = 0.4;
    const e = hwPropagators(HW, grid, dt);
    const [col, row] = [2, 8];
    const [kx, ky] = [grid.kx(col), grid.ky(row)];
    const mode = hwDispersion(HW.c1, HW.kappa, kx, ky, HW.nu, HW.hyperOrder);
    const k2 = kx * kx + ky * ky;
    // φ̂ = 1: n̂ = n/φ, Ω̂ = −k².
    const v = Float64Array.from([
      mode.densityOverPotential.re,
      mode.densityOverPotential.im,
      -k2,
      0,
    ]);
    const before = Float64Array.from(v);
    applyPropagator(e, row * grid.ncols + col, 1, v);
    const growth: C = [
      Math.exp((mode.growthRate * dt) / 2) * Math.cos((-mode.frequency * dt) / 2),
      Math.exp((mode.growthRate * dt) / 2) * Math.sin((-mode.frequency * dt) / 2),
    ];
    for (const j of [0, 2]) {
      const expected = cmul(growth, [before[j]!, before[j + 1]!]);
      assert.ok(
        Math.hypot(v[j]! - expected[0], v[j + 1]! - expected[1]) < 1e-12 * Math.max(1, k2),
        `component ${j}: ${v[j]}, ${v[j + 1]} vs ${expected}`,
      );
    }
  });
});
