/**
 * `moe-kernels`: weight bandwidth of the MoE engine's linear layers at decode sizes, the cost that
 * bounds batch-1 decode. For each Mixtral-8x7B / Qwen1.5-MoE matrix shape and 1, 4 and 8 tokens,
 * it times the tiled kernel (linear.wgsl) and gemv.wgsl in several thread layouts, 40 dispatches
 * per submit over rotating weight copies (more than the 50 MB L2 in all), and reports GB/s of
 * weights read. Best of 3 submits, wall clock around submit + onSubmittedWorkDone.
 */
import { GEMV, type GemvConfig, MoeOps } from '../src/moe/gpuOps.ts';
import { storageUsage } from '../src/runtime/buffers.ts';
import { CommandBatch } from '../src/runtime/commands.ts';
import { uniformGenerator } from '../src/spectral/random.ts';
import type { Benchmark } from './registry.ts';

const SHAPES = [
  { name: 'mixtral expert gate+up', rows: 14336, cols: 4096, gateUp: true },
  { name: 'mixtral expert down', rows: 4096, cols: 14336, gateUp: false },
  { name: 'mixtral q / o', rows: 4096, cols: 4096, gateUp: false },
  { name: 'mixtral k / v', rows: 1024, cols: 4096, gateUp: false },
  { name: 'mixtral lm head', rows: 32000, cols: 4096, gateUp: false },
  { name: 'qwen expert gate+up', rows: 1408, cols: 2048, gateUp: true },
  { name: 'qwen expert down', rows: 2048, cols: 1408, gateUp: false },
  { name: 'qwen lm head', rows: 151936, cols: 2048, gateUp: false },
];
const DISPATCHES = 40;
const ROTATION_BYTES = 512 * 2 ** 20;

export const moeKernelsBenchmark: Benchmark = async (device) => {
  if (device.kind !== 'webgpu') throw new Error('moe-kernels needs a WebGPU device');
  const gpu = device.gpu;
  const layouts: (GemvConfig | null)[] = [null];
  for (const threadsPerRow of [8, 16, 32]) {
    for (const workgroup of [64, 128, 256]) layouts.push({ threadsPerRow, workgroup });
  }
  const opsByLayout = await Promise.all(layouts.map((l) => MoeOps.create(gpu, 64, 16, l)));
  const x = gpu.createBuffer({ size: 4 * 8 * 14336, usage: storageUsage() });
  const y = gpu.createBuffer({ size: 4 * 8 * 151936, usage: storageUsage() });
  const noise = new Uint16Array(8 * 2 ** 20);
  const random = uniformGenerator(1);
  // Finite f16 values in [-1, 1): random sign, exponent 1..14, mantissa.
  for (let i = 0; i < noise.length; i++)
    noise[i] = (random() * 0x7800) | 0 | (random() < 0.5 ? 0x8000 : 0);
  const rows = [];
  for (const shape of SHAPES) {
    const bytes = (shape.gateUp ? 2 : 1) * shape.rows * shape.cols * 2;
    const copies = Math.max(1, Math.min(16, Math.ceil(ROTATION_BYTES / bytes)));
    const weights = Array.from({ length: copies }, () => {
      const buffer = gpu.createBuffer({ size: bytes, usage: storageUsage() });
      for (let at = 0; at < bytes; at += noise.byteLength) {
        gpu.queue.writeBuffer(buffer, at, noise, 0, Math.min(noise.length, (bytes - at) / 2));
      }
      return buffer;
    });
    for (const tokens of [1, 4, 8]) {
      for (const [i, ops] of opsByLayout.entries()) {
        let best = Infinity;
        for (let repeat = 0; repeat < 4; repeat++) {
          const batch = new CommandBatch(gpu);
          for (let d = 0; d < DISPATCHES; d++) {
            ops.linear(batch, {
              weights: weights[d % copies]!,
              x,
              y,
              tokens,
              rows: shape.rows,
              cols: shape.cols,
              gateUp: shape.gateUp,
            });
          }
          ops.flush();
          await gpu.queue.onSubmittedWorkDone();
          const started = performance.now();
          batch.submit();
          await gpu.queue.onSubmittedWorkDone();
          const ms = performance.now() - started;
          if (repeat > 0) best = Math.min(best, ms); // the first submit compiles and warms up
        }
        const layout = layouts[i] ?? null;
        rows.push({
          shape: shape.name,
          rows: shape.rows,
          cols: shape.cols,
          tokens,
          kernel: layout ? `gemv tpr${layout.threadsPerRow} wg${layout.workgroup}` : 'tiled',
          default:
            layout === null
              ? tokens > 8
              : layout.threadsPerRow === GEMV.threadsPerRow && layout.workgroup === GEMV.workgroup,
          us_per_call: +((1000 * best) / DISPATCHES).toFixed(1),
          weight_gb_per_s: +((bytes * DISPATCHES) / (best / 1000) / 1e9).toFixed(1),
        });
        console.error(JSON.stringify(rows.at(-1)));
      }
    }
    for (const buffer of weights) buffer.destroy();
  }
  for (const ops of opsByLayout) ops.destroy();
  x.destroy();
  y.destroy();
  return { params: { dispatches: DISPATCHES, rotation_bytes: ROTATION_BYTES }, results: { rows } };
};
