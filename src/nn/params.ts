/**
 * Parameter records between the host and jax-js: plain Float32Arrays by name (what initialisers,
 * checkpoints and exports hold) to a record of jax-js arrays of the model's shapes, and back.
 * Every jax-js model in driftflow (MoE LM, routing predictor, FNO) goes through these two.
 */
import * as jax from '@jax-js/jax';
import type { Params } from './adam.ts';

const np = jax.numpy;

export type ParameterShapes = [string, number[]][];

/** Device arrays of `shapes` from host values; `what` names the model in the error. */
export function paramsFromValues(
  shapes: ParameterShapes,
  values: Map<string, Float32Array>,
  what: string,
): Params {
  const params: Params = {};
  for (const [name, shape] of shapes) {
    const data = values.get(name);
    if (!data) throw new Error(`${what} parameter ${name} missing`);
    params[name] = np.array(data.slice()).reshape(shape);
  }
  return params;
}

/** Host copies of a record's arrays (the record stays alive). */
export async function readValues(
  shapes: ParameterShapes,
  record: Params,
): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name] of shapes) out.set(name, (await record[name]!.ref.data()) as Float32Array);
  return out;
}
