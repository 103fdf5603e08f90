/**
 * `solvers`: Hasegawa-Wakatani pseudo-spectral RK4 steps per second (fp32 on WebGPU; on the CPU
 * f32 PFFFT on all cores and on one, and the f64 reference) at 64²..2048² (64² is EHW-C's grid),
 * the CPU time of recording a GPU step, the GPU time of each kernel of a step and of the
 * diagnostics, and the achieved memory bandwidth against the step's own byte count (roofline =
 * bytes per step / streaming bandwidth). Targets are in
 * ../shared/targets.md: H100 ≥ 1956/2300/1400/540 steps/s at 256²/512²/1024²/2048²; CPU 256² at
 * least 2x hw2d's numpy step (25.9 ms).
 */
import { availableParallelism } from 'node:os';
import { measureStream, median } from '../src/runtime/bandwidth.ts';
import type { SimulationConfig } from '../src/solvers/config.ts';
import { gridOf } from '../src/solvers/config.ts';
import { DIAGNOSTICS_PASS, GpuStepper } from '../src/solvers/gpuStepper.ts';
import { initialState } from '../src/solvers/initial.ts';
import { type CpuPrecision, CpuStepper } from '../src/solvers/stepper.ts';
import type { Benchmark } from './registry.ts';

function hwConfig(n: number): SimulationConfig {
  const l = (2 * Math.PI) / 0.15;
  return {
    model: { kind: 'hw', c1: 1, kappa: 1, nu: 5e-8, hyperOrder: 3, modified: false },
    nx: n,
    ny: n,
    lx: l,
    ly: l,
    scheme: 'spectral',
    integrator: 'rk4',
    dt: 0.001,
    tEnd: 1,
    seed: 1,
    init: 'noise',
    initAmplitude: 0.01,
    saveEvery: 0,
    diagEvery: 1000,
  };
}

/**
 * Medians over `repeats` runs of `steps` steps: steps/s, and the CPU ms per step of recording and
 * submitting them (run() does all of that before its first await).
 */
async function timeRuns(
  stepper: GpuStepper,
  steps: number,
  repeats: number,
): Promise<{ stepsPerSecond: number; encodeMsPerStep: number }> {
  const rates: number[] = [];
  const encodeMs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const running = stepper.run(steps);
    encodeMs.push((performance.now() - t0) / steps);
    await running;
    rates.push(steps / ((performance.now() - t0) / 1000));
  }
  return { stepsPerSecond: median(rates), encodeMsPerStep: median(encodeMs) };
}

export const solversBenchmark: Benchmark = async (device, settings) => {
  const hardware = device.kind === 'webgpu' && !device.adapter.software;
  const sizes =
    device.kind === 'webgpu'
      ? hardware
        ? [64, 128, 256, 512, 1024, 2048]
        : [64, 128]
      : [64, 128, 256, 512];
  const repeats = settings.repeats ?? (hardware ? 5 : 3);
  const rows: Record<string, unknown>[] = [];
  const stream = hardware ? await measureStream(device, 256 << 20, 20) : null;
  for (const n of sizes) {
    const config = hwConfig(n);
    const grid = gridOf(config);
    const init = initialState(config.model, grid, 'noise', config.initAmplitude, 1);
    if (device.kind === 'webgpu') {
      const stepper = await GpuStepper.create(device, grid, config);
      await stepper.setState(init);
      await stepper.run(20);
      // Time batches of ~0.5 s: steps/s is the median over repeats.
      const probe = performance.now();
      await stepper.run(50);
      const perStep = (performance.now() - probe) / 50;
      const steps = Math.max(50, Math.round(500 / perStep));
      const timed = await timeRuns(stepper, steps, repeats);
      const stepsPerSecond = timed.stepsPerSecond;
      // The other update layout (fused or not, gpuStepper.ts FUSE_MAX_NY), timed the same way.
      const fused = stepper.dispatchesPerStep === 8;
      const other = await GpuStepper.create(device, grid, config, { fuse: !fused });
      await other.setState(init);
      await other.run(20);
      const alternative = {
        dispatchesPerStep: other.dispatchesPerStep,
        stepsPerSecond: (await timeRuns(other, steps, repeats)).stepsPerSecond,
      };
      other.destroy();
      const passes = await stepper.profileStep();
      const kernels = passes?.filter((pass) => pass.label !== DIAGNOSTICS_PASS) ?? null;
      const bytes = stepper.bytesPerStep;
      const achievedGbps = (bytes * stepsPerSecond) / 1e9;
      rows.push({
        grid: `${n}x${n}`,
        stepsPerSecond,
        msPerStep: 1000 / stepsPerSecond,
        // CPU time to record and submit one step's dispatches (Dawn): the floor of msPerStep.
        cpuEncodeMsPerStep: timed.encodeMsPerStep,
        stepsTimed: steps,
        dispatchesPerStep: stepper.dispatchesPerStep,
        alternativeLayout: alternative,
        bytesPerStep: bytes,
        achievedGbps,
        rooflineStepsPerSecond: stream ? (stream.gbps * 1e9) / bytes : null,
        fractionOfRoofline: stream ? achievedGbps / stream.gbps : null,
        kernelMs: kernels,
        kernelSumMs: kernels ? kernels.reduce((s, k) => s + k.ms, 0) : null,
        // One diagnostics sample (row reductions + total), taken every --diag-every steps.
        diagnosticsMs: passes?.find((pass) => pass.label === DIAGNOSTICS_PASS)?.ms ?? null,
      });
      stepper.destroy();
    } else {
      // Each CPU variant: warm-up steps, then the median of `repeats` single-step timings.
      const variants: [string, CpuPrecision, number][] = [
        [`f32 PFFFT, ${availableParallelism()} threads`, 'f32', availableParallelism()],
        ['f32 PFFFT, 1 thread', 'f32', 1],
        ['f64 reference, 1 thread', 'f64', 1],
      ];
      const row: Record<string, unknown> = { grid: `${n}x${n}` };
      for (const [label, precision, threads] of variants) {
        const stepper = await CpuStepper.create(
          grid,
          config.model,
          config.dt,
          config.integrator,
          precision,
          threads,
        );
        await stepper.setState(init);
        for (let w = 0; w < 3; w++) stepper.core.step();
        const times: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const t0 = performance.now();
          stepper.core.step();
          times.push(performance.now() - t0);
        }
        stepper.destroy();
        const ms = median(times);
        row[label] = { msPerStep: ms, stepsPerSecond: 1000 / ms, device: stepper.deviceLabel };
      }
      rows.push(row);
    }
  }
  return {
    params: {
      model: 'hw',
      scheme: 'spectral 2/3',
      integrator: 'rk4',
      precision: device.kind === 'webgpu' ? 'f32' : 'per variant',
      repeats,
    },
    results: {
      streamGbps: stream?.gbps ?? null,
      sizes: rows,
      targets: {
        h100StepsPerSecond: { '256': 1956, '512': 2300, '1024': 1400, '2048': 540 },
        cpuMsPerStep256: 25.9 / 2,
        note: 'peers in ../shared/targets.md: PyTorch CUDA graph 1956/1516/807/245, JAX jit 945/852/932/361; hw2d numpy 25.9 ms at 256² on 2 cores',
      },
    },
  };
};
