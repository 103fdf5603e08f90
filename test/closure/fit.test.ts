// The a-priori least-squares closure fit: it recovers known coefficients (both signs) from
// sub-grid terms made by a known closure, reports how much of τ it explains, and refuses
// malformed or linearly dependent term sets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hwBoxGrid } from '../helpers/grids.ts';
import { fitLeastSquares, type FitSample } from '../../src/closure/fit.ts';
import { EHWC_TERMS, evaluateTerm, parseTerms } from '../../src/closure/terms.ts';
import { initialState } from '../../src/solvers/initial.ts';
import { potentialOf, type HwParams } from '../../src/solvers/model.ts';
import { whiteNoise } from '../../src/spectral/random.ts';

const model: HwParams = { kind: 'hw', c1: 1, kappa: 1, nu: 0, hyperOrder: 3, modified: false };
const grid = hwBoxGrid(32);
const KNOWN = [0.8, -0.05, 0.3, 1.2, 0.02, -0.4];

function samplesMadeBy(coefficients: number[], noise: number): FitSample[] {
  return [1, 2, 3].map((seed) => {
    const [n, omega] = initialState(model, grid, 'noise', 1, seed) as [Float64Array, Float64Array];
    const phi = potentialOf(model, grid, [n, omega]);
    const fields = { n, omega, phi };
    const subgrid = { n: new Float64Array(n.length), omega: new Float64Array(n.length) };
    EHWC_TERMS.forEach((term, j) => {
      const value = evaluateTerm(term, fields, grid);
      const tau = subgrid[term.equation];
      value.forEach((v, i) => (tau[i] = tau[i]! - coefficients[j]! * v));
    });
    if (noise > 0)
      for (const tau of Object.values(subgrid)) {
        const scale = Math.sqrt(tau.reduce((s, v) => s + v * v, 0) / tau.length);
        whiteNoise(tau.length, seed + 10).forEach((v, i) => (tau[i] = tau[i]! + noise * scale * v));
      }
    return { ...fields, subgrid };
  });
}

describe('least-squares closure fit', () => {
  it('recovers known coefficients of both signs exactly from noise-free data', () => {
    const { coefficients, relativeResidual } = fitLeastSquares(
      samplesMadeBy(KNOWN, 0),
      EHWC_TERMS,
      grid,
    );
    coefficients.forEach((c, j) =>
      assert.ok(
        Math.abs(c - KNOWN[j]!) < 1e-9 * Math.abs(KNOWN[j]!),
        `c${j} = ${c}, expected ${KNOWN[j]}`,
      ),
    );
    assert.ok(relativeResidual.n < 1e-6 && relativeResidual.omega < 1e-6);
  });

  it('with unexplained noise in τ, reports the residual and stays close', () => {
    const { coefficients, relativeResidual } = fitLeastSquares(
      samplesMadeBy(KNOWN, 0.2),
      EHWC_TERMS,
      grid,
    );
    assert.ok(
      relativeResidual.n > 0.05 && relativeResidual.n < 0.5,
      `residual ${relativeResidual.n}`,
    );
    coefficients.forEach((c, j) =>
      assert.ok(Math.abs(c - KNOWN[j]!) < 0.2 * Math.abs(KNOWN[j]!) + 0.01, `c${j} = ${c}`),
    );
  });

  it('refuses malformed and linearly dependent term sets', () => {
    assert.throws(() => parseTerms('n:psi:1'), /equation:field:power/);
    const twice = parseTerms('n:n:1,n:n:1');
    assert.throws(
      () => fitLeastSquares(samplesMadeBy(KNOWN, 0), twice, grid),
      /linearly dependent/,
    );
  });
});
