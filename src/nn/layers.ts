/**
 * The two layers every jax-js transformer in driftflow shares (the MoE LM and the routing
 * predictor), written to jax-js's ownership rules (they consume their arguments).
 */
import * as jax from '@jax-js/jax';

const np = jax.numpy;

/** x W^T for W stored [out, in] (the Hugging Face layout). */
export const linear = (x: jax.Array, w: jax.Array): jax.Array => np.matmul(x, w.transpose());

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) * w. */
export function rmsNorm(x: jax.Array, w: jax.Array, eps: number): jax.Array {
  const scale = np.reciprocal(np.sqrt(np.mean(np.square(x.ref), -1, { keepdims: true }).add(eps)));
  return x.mul(scale).mul(w);
}
