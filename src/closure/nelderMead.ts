/**
 * Derivative-free minimisation (Nelder–Mead simplex, standard coefficients 1, 2, ½, ½) for the
 * a-posteriori closure calibration, where every evaluation is a whole coarse simulation and no
 * gradient exists. The objective is async (a run) and the number of evaluations is the budget.
 */

export interface Evaluation {
  x: number[];
  value: number;
}

export interface MinimizeOptions {
  /** Initial simplex: x0 plus `step[j]` along axis j. */
  step: number[];
  maxEvaluations: number;
  /** Stop when the simplex's values differ by less than this. */
  tolerance?: number;
  onEvaluation?: (evaluation: Evaluation, index: number) => void;
}

export interface MinimizeResult {
  best: Evaluation;
  evaluations: Evaluation[];
}

export async function minimizeNelderMead(
  objective: (x: number[]) => Promise<number>,
  x0: number[],
  options: MinimizeOptions,
): Promise<MinimizeResult> {
  const evaluations: Evaluation[] = [];
  const budgetLeft = () => evaluations.length < options.maxEvaluations;
  const evaluate = async (x: number[]): Promise<Evaluation> => {
    const raw = await objective(x);
    const e = { x, value: Number.isNaN(raw) ? Infinity : raw };
    evaluations.push(e);
    options.onEvaluation?.(e, evaluations.length - 1);
    return e;
  };
  const combine = (a: number[], b: number[], t: number) => a.map((v, j) => v + t * (b[j]! - v));

  const simplex: Evaluation[] = [await evaluate(x0)];
  for (let j = 0; j < x0.length && budgetLeft(); j++)
    simplex.push(await evaluate(x0.map((v, i) => (i === j ? v + options.step[j]! : v))));
  while (simplex.length === x0.length + 1 && budgetLeft()) {
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0]!;
    const worst = simplex.at(-1)!;
    const secondWorst = simplex.at(-2)!;
    if (worst.value - best.value < (options.tolerance ?? 0)) break;
    const centroid = x0.map(
      (_, j) => simplex.slice(0, -1).reduce((s, e) => s + e.x[j]!, 0) / (simplex.length - 1),
    );
    const reflected = await evaluate(combine(centroid, worst.x, -1));
    if (reflected.value < best.value && budgetLeft()) {
      const expanded = await evaluate(combine(centroid, worst.x, -2));
      simplex[simplex.length - 1] = expanded.value < reflected.value ? expanded : reflected;
    } else if (reflected.value < secondWorst.value) {
      simplex[simplex.length - 1] = reflected;
    } else if (budgetLeft()) {
      const outside = reflected.value < worst.value;
      const contracted = await evaluate(combine(centroid, outside ? reflected.x : worst.x, 0.5));
      if (contracted.value < Math.min(worst.value, reflected.value)) {
        simplex[simplex.length - 1] = contracted;
      } else {
        for (let i = 1; i < simplex.length && budgetLeft(); i++)
          simplex[i] = await evaluate(combine(best.x, simplex[i]!.x, 0.5));
      }
    }
  }
  const best = evaluations.reduce((a, b) => (b.value < a.value ? b : a));
  return { best, evaluations };
}
