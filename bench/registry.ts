/** The benchmarks `npm run bench` knows; each returns its parameters and measured results. */
import type { ComputeDevice } from '../src/runtime/device.ts';
import { expertflowBenchmark } from './expertflow.ts';
import { flowBenchmark } from './flow.ts';
import { moeBenchmark } from './moe.ts';
import { moeKernelsBenchmark } from './moeKernels.ts';
import { solversBenchmark } from './solvers.ts';
import { streamBenchmark } from './stream.ts';

export interface BenchSettings {
  repeats: number | undefined;
  sizeMib: number | undefined;
}
export type Benchmark = (
  device: ComputeDevice,
  settings: BenchSettings,
) => Promise<{ params: Record<string, unknown>; results: Record<string, unknown> }>;

export const BENCHMARKS: Record<string, Benchmark> = {
  stream: streamBenchmark,
  solvers: solversBenchmark,
  moe: moeBenchmark,
  'moe-kernels': moeKernelsBenchmark,
  expertflow: expertflowBenchmark,
  flow: flowBenchmark,
};
