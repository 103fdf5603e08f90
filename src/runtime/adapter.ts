/**
 * Describes a WebGPU adapter/device in plain data (for `driftflow info`, benchmark JSON and logs)
 * and installs the `navigator.gpu` shim through which jax-js creates the one GPUDevice that our
 * hand-written WGSL kernels share with it.
 *
 * jax-js asks only for `shader-f16` and `timestamp-query`; the shim adds the features our kernels
 * use (subgroups, subgroup matrices when unsafe APIs are on) and pins the feature level, so that the
 * adapter jax-js gets is the one we chose (llvmpipe needs `featureLevel: 'compatibility'`).
 */
export type FeatureLevel = 'core' | 'compatibility';

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: string;
  featureLevel: FeatureLevel;
  software: boolean;
}

/** Features our kernels use when present; requested on top of jax-js's own. */
export const WANTED_FEATURES: readonly string[] = [
  'shader-f16',
  'timestamp-query',
  'subgroups',
  'subgroup-size-control',
  'chromium-experimental-subgroup-matrix',
];

/** Limits worth reporting and requesting at the adapter's maximum. */
export const REPORTED_LIMITS: readonly string[] = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxUniformBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxBindGroups',
  'minStorageBufferOffsetAlignment',
  'minUniformBufferOffsetAlignment',
];

const SOFTWARE_RENDERERS = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

export function describeAdapter(
  adapter: GPUAdapter,
  featureLevel: FeatureLevel,
  backend: string,
): AdapterReport {
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    backend,
    featureLevel,
    software: fallback === true || SOFTWARE_RENDERERS.test(text),
  };
}

export function listFeatures(features: GPUSupportedFeatures): string[] {
  return [...features].map(String).sort();
}

export function readLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of REPORTED_LIMITS) {
    const value = (limits as unknown as Record<string, unknown>)[name];
    if (typeof value === 'number') out[name] = value;
  }
  return out;
}

/** Wraps an adapter so that requestDevice also asks for WANTED_FEATURES and the max limits. */
function withExtraRequests(adapter: GPUAdapter): GPUAdapter {
  const requestDevice = async (descriptor: GPUDeviceDescriptor = {}): Promise<GPUDevice> => {
    const features = new Set<GPUFeatureName>(descriptor.requiredFeatures ?? []);
    for (const name of WANTED_FEATURES) {
      if (adapter.features.has(name)) features.add(name as GPUFeatureName);
    }
    const limits: Record<string, number> = { ...readLimits(adapter.limits) };
    // Alignment limits are minimums: asking for the adapter's value is always allowed.
    Object.assign(limits, descriptor.requiredLimits ?? {});
    return adapter.requestDevice({
      ...descriptor,
      requiredFeatures: [...features],
      requiredLimits: limits,
    });
  };
  return new Proxy(adapter, {
    get(target, prop) {
      if (prop === 'requestDevice') return requestDevice;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Points `navigator.gpu` at `gpu`, forcing our feature level and extra device requests. */
export function installNavigatorGpu(gpu: GPU, featureLevel: FeatureLevel): void {
  const shim = {
    async requestAdapter(options: GPURequestAdapterOptions = {}) {
      const adapter = await gpu.requestAdapter({ ...options, featureLevel });
      return adapter ? withExtraRequests(adapter) : null;
    },
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat(),
    get wgslLanguageFeatures() {
      return gpu.wgslLanguageFeatures;
    },
  };
  // Keep Node's own navigator (jax-js reads navigator.userAgent at import); Node < 21 has none.
  if (typeof globalThis.navigator === 'undefined') {
    Object.defineProperty(globalThis, 'navigator', {
      value: { userAgent: `Node.js/${process.versions.node}` },
      configurable: true,
    });
  }
  Object.defineProperty(globalThis.navigator, 'gpu', {
    value: shim,
    configurable: true,
    writable: true,
  });
}
