/**
 * GPU reductions for diagnostics (energies, fluxes): a WGSL sum recorded into the caller's batch,
 * so that a solver reads back a few floats every few steps instead of whole fields.
 */
import { createStorageBuffer, createUniformBuffer } from './buffers.ts';
import type { CommandBatch } from './commands.ts';
import { getKernel, loadWgsl } from './kernels.ts';

const WORKGROUP_SIZE = 256;
/** Upper bound on first-pass workgroups; the second pass sums these in one workgroup. */
const MAX_PARTIALS = 1024;

export interface SumPlan {
  /** Records both passes into `batch`; the sum lands in `result[0]`. */
  record(batch: CommandBatch): void;
  readonly result: GPUBuffer;
  destroy(): void;
}

/** Plans the sum of the first `count` f32 values of `values` (a reusable plan, no allocation per call). */
export async function planSum(
  device: GPUDevice,
  values: GPUBuffer,
  count: number,
): Promise<SumPlan> {
  if (!Number.isInteger(count) || count <= 0 || 4 * count > values.size) {
    throw new Error(`planSum: count ${count} does not fit a ${values.size}-byte buffer`);
  }
  const kernel = await getKernel(device, {
    code: await loadWgsl('./wgsl/reduce_sum.wgsl', import.meta.url),
    label: 'reduce_sum',
  });
  const groups = Math.min(MAX_PARTIALS, Math.ceil(count / WORKGROUP_SIZE));
  const partials = createStorageBuffer(device, 4 * groups, 'sum partials');
  const result = createStorageBuffer(device, 4, 'sum result');
  const firstParams = createUniformBuffer(device, new Uint32Array([count, 0, 0, 0]));
  const secondParams = createUniformBuffer(device, new Uint32Array([groups, 0, 0, 0]));
  return {
    result,
    record(batch) {
      batch.dispatch(kernel, [values, partials, firstParams], groups);
      batch.dispatch(kernel, [partials, result, secondParams], 1);
    },
    destroy() {
      for (const buffer of [partials, result, firstParams, secondParams]) buffer.destroy();
    },
  };
}
