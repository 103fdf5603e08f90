/**
 * Device-parameterized tests. `testDevices()` opens jax-js `wasm` and, where an adapter exists,
 * WebGPU (llvmpipe in CI, the H100 on the GPU machine). A missing adapter becomes a visible skip with
 * its reason, never a silent pass. Test files must be run with --test-force-exit (Dawn keeps the
 * process alive), and so must await these helpers before declaring any test: the runner exits when
 * the tests declared so far have finished, silently dropping those declared after a pending await.
 */
import { type ComputeDevice, openDevice, type WebGpuDevice } from '../../src/runtime/device.ts';

export interface TestDevice {
  name: 'wasm' | 'webgpu';
  device: ComputeDevice | null;
  /** Reason to skip, or false. */
  skip: string | false;
}

let opened: Promise<TestDevice[]> | undefined;

export function testDevices(): Promise<TestDevice[]> {
  opened ??= (async () => {
    const wasm = await openDevice({ prefer: 'wasm' });
    let webgpu: TestDevice;
    try {
      webgpu = { name: 'webgpu', device: await openDevice({ prefer: 'webgpu' }), skip: false };
    } catch (error) {
      webgpu = {
        name: 'webgpu',
        device: null,
        skip: `no WebGPU adapter: ${(error as Error).message}`,
      };
    }
    return [{ name: 'wasm', device: wasm, skip: false }, webgpu];
  })();
  return opened;
}

/** The WebGPU device for WGSL kernel tests, or a skip reason. */
export async function webGpuOrSkip(): Promise<{ gpu: WebGpuDevice | null; skip: string | false }> {
  const webgpu = (await testDevices()).find((d) => d.name === 'webgpu')!;
  return { gpu: webgpu.device as WebGpuDevice | null, skip: webgpu.skip };
}
