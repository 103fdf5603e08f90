/**
 * The closure library: terms −c·(−∇²)^p f added to the right-hand side of equation e
 * (e ∈ {n, Ω}, f ∈ {n, φ, Ω}, p ∈ {1, 2, 3}). The sign is chosen once, here, so that a positive
 * coefficient on an own-field term (f = e) damps at every order p (diffusion for p = 1,
 * hyper-diffusion for p ≥ 2); a negative one is inverse transport. In spectral space a term is
 * −c·(k²)^p f̂, diagonal per mode.
 */
import { InvalidConfigError } from '../solvers/config.ts';
import type { SpectralGrid } from '../spectral/grid.ts';
import type { ClosureTerm } from '../solvers/model.ts';

export type { ClosureTerm };
export type ClosureEquation = ClosureTerm['equation'];
export type ClosureField = ClosureTerm['field'];

/** The default EHW-C set: diffusion, hyper-diffusion and one cross-field term per equation. */
export const EHWC_TERMS: ClosureTerm[] = [
  { equation: 'n', field: 'n', power: 1 },
  { equation: 'n', field: 'n', power: 2 },
  { equation: 'n', field: 'phi', power: 1 },
  { equation: 'omega', field: 'omega', power: 1 },
  { equation: 'omega', field: 'omega', power: 2 },
  { equation: 'omega', field: 'n', power: 1 },
];

export function termLabel(term: ClosureTerm): string {
  return `${term.equation}-eq: -c (-lap)^${term.power} ${term.field}`;
}

/** Parses "n:n:1,n:n:2,..." (equation:field:power) into terms, with a clear error. */
export function parseTerms(text: string): ClosureTerm[] {
  return text.split(',').map((item) => {
    const [equation, field, power] = item.trim().split(':');
    const p = Number(power);
    if (
      !['n', 'omega'].includes(equation ?? '') ||
      !['n', 'phi', 'omega'].includes(field ?? '') ||
      ![1, 2, 3].includes(p)
    )
      throw new InvalidConfigError(
        `closure term '${item}' is not equation:field:power with equation n|omega, field n|phi|omega, power 1|2|3`,
      );
    return { equation, field, power: p } as ClosureTerm;
  });
}

/** The term's value −(k²)^p f̂ (coefficient 1) for spectral fields n, Ω, φ on `grid`. */
export function evaluateTerm(
  term: ClosureTerm,
  fields: Record<ClosureField, Float64Array>,
  grid: SpectralGrid,
): Float64Array {
  const f = fields[term.field];
  const out = new Float64Array(f.length);
  for (let i = 0; i < grid.spectralSize; i++) {
    const symbol = -(grid.k2[i]! ** term.power);
    out[2 * i] = symbol * f[2 * i]!;
    out[2 * i + 1] = symbol * f[2 * i + 1]!;
  }
  return out;
}
