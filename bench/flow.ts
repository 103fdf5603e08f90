/**
 * `npm run bench -- flow`: FOT-CFM's FNO flow-matching training step, the configuration of
 * ../shared/targets.md (64², width 64, 16 modes, 4 layers, batch 32, fp32; PyTorch: 2730 samples/s)
 * on a GPU, and a small one on the CPU. Data and noise are Gaussian random fields (the step's cost
 * does not depend on what the fields hold). Reports samples/s with the loss read back every step,
 * with independent pairing and with the exact minimibatch OT pairing computed on the host.
 * FLOW_BENCH_STEPS sets the timed steps (default 20); FLOW_BENCH_BATCH a comma-separated list of
 * batch sizes (default 32 on a GPU, 8 on the CPU): the step's kernel count and host overhead do not
 * grow with the batch, so larger batches show how much of the step is fixed cost.
 */
import { assignmentCost, l2CostMatrix, solveAssignment } from '../src/flow/assignment.ts';
import type { FnoShape } from '../src/flow/fno.ts';
import { createFlowTrainer } from '../src/flow/flowTrainer.ts';
import { sampleNoise } from '../src/flow/noise.ts';
import { uniformGenerator } from '../src/spectral/random.ts';
import type { Benchmark } from './registry.ts';

function pairByOt(x0: Float32Array, x1: Float32Array, b: number, points: number) {
  const cost = l2CostMatrix(x0, x1, b, points);
  const match = solveAssignment(cost, b);
  const paired = new Float32Array(x1.length);
  for (let i = 0; i < b; i++)
    paired.set(x1.subarray(match[i]! * points, (match[i]! + 1) * points), i * points);
  return { paired, cost: assignmentCost(cost, b, match) };
}

export const flowBenchmark: Benchmark = async (device) => {
  const gpu = device.kind === 'webgpu' && !device.adapter.software;
  const size = gpu ? 64 : 32;
  const batches = (process.env.FLOW_BENCH_BATCH ?? (gpu ? '32' : '8')).split(',').map(Number);
  if (batches.some((b) => !Number.isInteger(b) || b < 1))
    throw new Error(
      `FLOW_BENCH_BATCH must list positive integers, got '${process.env.FLOW_BENCH_BATCH}'`,
    );
  const shape: FnoShape = gpu
    ? { channels: 1, width: 64, modes: 16, layers: 4, projection: 128 }
    : { channels: 1, width: 16, modes: 8, layers: 4, projection: 32 };
  const steps = Number(process.env.FLOW_BENCH_STEPS ?? (gpu ? 20 : 5));
  const points = size * size * shape.channels;
  const rows = [];
  for (const batch of batches) {
    const pool = 4 * batch;
    const data = sampleNoise({ tau: 8, alpha: 2.5 }, size, pool, shape.channels, 1);
    const noise = sampleNoise({ tau: 3, alpha: 2 }, size, pool, shape.channels, 2);
    for (const coupling of ['independent', 'ot'] as const) {
      const trainer = createFlowTrainer(shape, {
        seed: 0,
        batch,
        steps: steps + 3,
        peakLr: 1e-3,
        warmup: 1,
        weightDecay: 0,
        sigmaMin: 0,
      });
      const uniform = uniformGenerator(7);
      let hostMs = 0;
      const run = async (step: number) => {
        const at = (step * batch) % pool;
        const x0 = noise.slice(at * points, (at + batch) * points);
        let x1 = data.slice(at * points, (at + batch) * points);
        const started = performance.now();
        if (coupling === 'ot') x1 = pairByOt(x0, x1, batch, points).paired;
        hostMs += performance.now() - started;
        const t = Float32Array.from({ length: batch }, () => uniform());
        return trainer.step({ x0, x1, t, size }, step).loss;
      };
      for (let i = 0; i < 3; i++) await run(i); // warm-up: compile the jitted step
      hostMs = 0;
      const started = performance.now();
      let loss = 0;
      for (let i = 0; i < steps; i++) loss = await run(3 + i);
      const seconds = (performance.now() - started) / 1000;
      rows.push({
        batch,
        coupling,
        samples_per_s: (steps * batch) / seconds,
        ms_per_step: (1000 * seconds) / steps,
        host_coupling_ms_per_step: hostMs / steps,
        final_loss: loss,
      });
      console.error(JSON.stringify(rows.at(-1)));
      trainer.dispose();
    }
  }
  return {
    params: {
      size,
      batches,
      shape,
      steps,
      dtype: 'f32',
      peer: gpu ? 'PyTorch 2730 samples/s (targets.md)' : null,
    },
    results: { rows },
  };
};
