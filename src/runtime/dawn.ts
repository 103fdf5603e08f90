/**
 * Node-only: creates Google's Dawn (npm `webgpu`) instances and finds an adapter.
 *
 * Why a file of its own: the browser has `navigator.gpu` and must never import `webgpu`. In Node we
 * try the default backend (Vulkan on an NVIDIA server) at the core feature level first, then Mesa's
 * llvmpipe through OpenGL ES at the compatibility level (the only software path Dawn accepts on
 * Debian, see shared/gpu/README.md), and record why each attempt failed.
 */
import type { FeatureLevel } from './adapter.ts';

export interface DawnAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  featureLevel: FeatureLevel;
  backend: 'default' | 'opengles';
}

let dawnModule: typeof import('webgpu') | undefined;

/** Mesa's EGL needs these to run headless; Node's env setter updates the real environment. */
function setHeadlessEnvironmentDefaults(): void {
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    process.env.EGL_PLATFORM ??= 'surfaceless';
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
}

/**
 * Dawn toggles: f16 on NVIDIA always; unsafe APIs (subgroup matrices) only when asked; timestamp
 * quantization off (by default Dawn rounds GPU timestamps to ~98 us, seen on the H100, which makes
 * short kernels read 0 ms).
 */
export function dawnFlags(unsafeApis: boolean): string[] {
  const toggles = ['vulkan_enable_f16_on_nvidia'];
  if (unsafeApis) toggles.push('allow_unsafe_apis');
  return [
    `enable-dawn-features=${toggles.join(',')}`,
    'disable-dawn-features=timestamp_quantization',
  ];
}

export async function findDawnAdapter(
  unsafeApis: boolean,
  trail: string[],
): Promise<DawnAdapter | null> {
  try {
    dawnModule ??= await import('webgpu');
  } catch (error) {
    trail.push(`the 'webgpu' package (Dawn) could not be loaded: ${(error as Error).message}`);
    return null;
  }
  setHeadlessEnvironmentDefaults();
  if (typeof globalThis.GPUBufferUsage === 'undefined') {
    Object.assign(globalThis, dawnModule.globals);
  }
  const flags = dawnFlags(unsafeApis);
  const gpu = dawnModule.create(flags);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter) return { gpu, adapter, featureLevel: 'core', backend: 'default' };
  trail.push('Dawn found no core-level adapter on its default backend (no Vulkan GPU driver)');

  const glGpu = dawnModule.create([...flags, 'backend=opengles']);
  const glAdapter = await glGpu.requestAdapter({ featureLevel: 'compatibility' });
  if (glAdapter) {
    return { gpu: glGpu, adapter: glAdapter, featureLevel: 'compatibility', backend: 'opengles' };
  }
  trail.push(
    'Dawn found no OpenGL ES adapter either (install Mesa: libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)',
  );
  return null;
}
