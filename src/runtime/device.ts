/**
 * `openDevice`: the one call every driftflow capability uses to get its compute device.
 *
 * It picks WebGPU (Dawn in Node, `navigator.gpu` in a browser) or jax-js's `wasm` CPU device,
 * initialises jax-js on it, and returns a report of what was chosen and why. On WebGPU the returned
 * GPUDevice is jax-js's own (`getWebGPUDevice()`), so hand-written WGSL kernels and jax-js share one
 * queue and need no extra synchronisation.
 *
 * `auto` takes a hardware GPU when there is one and otherwise the CPU (`wasm`): a software adapter
 * (Mesa llvmpipe) runs WGSL correctly but slower than the CPU paths, so it is used only when asked
 * for (`prefer: 'webgpu'`) -- that is how CI runs the WGSL kernel tests.
 */
import * as jax from '@jax-js/jax';
import {
  type AdapterReport,
  describeAdapter,
  type FeatureLevel,
  installNavigatorGpu,
  listFeatures,
  readLimits,
} from './adapter.ts';

export type DevicePreference = 'auto' | 'webgpu' | 'wasm';
export const DEVICE_PREFERENCES: readonly DevicePreference[] = ['auto', 'webgpu', 'wasm'];

export interface OpenDeviceOptions {
  prefer?: DevicePreference;
  /** Dawn's `allow_unsafe_apis` (exposes subgroup matrices); off unless asked. */
  unsafeApis?: boolean;
  /** Accept a software adapter (llvmpipe) under `auto`. Default: only when prefer is 'webgpu'. */
  allowSoftware?: boolean;
}

interface DeviceBase {
  /** Every adapter or backend tried and why it was not taken, in order. */
  trail: string[];
  /** jax-js devices that were initialised (tests may use both). */
  jaxDevices: jax.Device[];
}

export interface WebGpuDevice extends DeviceBase {
  kind: 'webgpu';
  gpu: GPUDevice;
  adapter: AdapterReport;
  features: string[];
  limits: Record<string, number>;
}

export interface WasmDevice extends DeviceBase {
  kind: 'wasm';
  threads: number;
}

export type ComputeDevice = WebGpuDevice | WasmDevice;

export class DeviceUnavailableError extends Error {
  constructor(
    message: string,
    readonly trail: string[],
  ) {
    super(`${message}\n  tried:\n${trail.map((line) => `  - ${line}`).join('\n')}`);
    this.name = 'DeviceUnavailableError';
  }
}

interface ChosenAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  featureLevel: FeatureLevel;
  report: AdapterReport;
}

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
let cachedAdapter: Promise<{ chosen: ChosenAdapter | null; trail: string[] }> | undefined;
let cachedWebGpu: Promise<Omit<WebGpuDevice, 'trail'> | null> | undefined;

async function findAdapter(unsafeApis: boolean, trail: string[]): Promise<ChosenAdapter | null> {
  if (!isNode) {
    const gpu = globalThis.navigator?.gpu;
    if (!gpu) {
      trail.push('this browser has no navigator.gpu (WebGPU disabled or unsupported)');
      return null;
    }
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) trail.push('navigator.gpu.requestAdapter returned null');
    return adapter
      ? { gpu, adapter, featureLevel: 'core', report: describeAdapter(adapter, 'core', 'browser') }
      : null;
  }
  const { findDawnAdapter } = await import('./dawn.ts');
  const found = await findDawnAdapter(unsafeApis, trail);
  if (!found) return null;
  const backend = found.backend === 'opengles' ? 'opengles' : 'vulkan';
  return { ...found, report: describeAdapter(found.adapter, found.featureLevel, backend) };
}

/** Finds (once per process) the adapter WebGPU would use; no device is created yet. */
async function chooseAdapter(unsafeApis: boolean, trail: string[]): Promise<ChosenAdapter | null> {
  cachedAdapter ??= (async () => {
    const own: string[] = [];
    return { chosen: await findAdapter(unsafeApis, own), trail: own };
  })();
  const found = await cachedAdapter;
  trail.push(...found.trail);
  return found.chosen;
}

async function createWebGpu(chosen: ChosenAdapter): Promise<Omit<WebGpuDevice, 'trail'> | null> {
  installNavigatorGpu(chosen.gpu, chosen.featureLevel);
  const ready = await jax.init('wasm', 'webgpu');
  if (!ready.includes('webgpu')) return null;
  const gpu = jax.getWebGPUDevice();
  gpu.addEventListener('uncapturederror', (event) => {
    console.error(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  void gpu.lost.then((info) => {
    if (info.reason !== 'destroyed') console.error(`WebGPU device lost: ${info.message}`);
  });
  return {
    kind: 'webgpu',
    gpu,
    adapter: chosen.report,
    features: listFeatures(gpu.features),
    limits: readLimits(gpu.limits),
    jaxDevices: ready,
  };
}

async function openWasm(trail: string[]): Promise<WasmDevice> {
  const ready = await jax.init('wasm');
  if (!ready.includes('wasm'))
    throw new DeviceUnavailableError('jax-js wasm is unavailable', trail);
  jax.defaultDevice('wasm');
  const threads = isNode
    ? (await import('node:os')).availableParallelism()
    : navigator.hardwareConcurrency;
  return { kind: 'wasm', threads, trail, jaxDevices: ready };
}

export async function openDevice(options: OpenDeviceOptions = {}): Promise<ComputeDevice> {
  const prefer = options.prefer ?? 'auto';
  if (!DEVICE_PREFERENCES.includes(prefer)) {
    throw new Error(`unknown device '${prefer}': use one of ${DEVICE_PREFERENCES.join(', ')}`);
  }
  const trail: string[] = [];
  if (prefer === 'wasm') return openWasm(trail);

  const chosen = await chooseAdapter(options.unsafeApis ?? false, trail);
  const allowSoftware = options.allowSoftware ?? prefer === 'webgpu';
  if (chosen && (!chosen.report.software || allowSoftware)) {
    // Created once per process, and only for an adapter that will be used.
    cachedWebGpu ??= createWebGpu(chosen);
    const device = await cachedWebGpu;
    if (device) {
      jax.defaultDevice('webgpu');
      return { ...device, trail };
    }
    trail.push('jax-js could not create its WebGPU backend on the chosen adapter');
  } else if (chosen) {
    trail.push(
      `software adapter '${chosen.report.description || chosen.report.device}' skipped: ` +
        'auto prefers the CPU (wasm) when there is no hardware GPU; use --device webgpu to run WGSL on it',
    );
  }
  if (prefer === 'webgpu') {
    throw new DeviceUnavailableError('no WebGPU adapter is available', trail);
  }
  return openWasm(trail);
}

/** One line naming the device, for logs and benchmark JSON. */
export function deviceLabel(device: ComputeDevice): string {
  if (device.kind === 'wasm') return `wasm (CPU, ${device.threads} threads)`;
  const a = device.adapter;
  const name = a.description || a.device || a.architecture || a.vendor || 'unknown adapter';
  return `webgpu (${name}, ${a.backend}${a.software ? ', software' : ''})`;
}
