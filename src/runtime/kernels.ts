/**
 * Hand-written WGSL kernels: source loading and a pipeline + bind-group cache per GPUDevice.
 *
 * Kernels live in `.wgsl` files beside the TypeScript that drives them (reviewable diffs, syntax
 * highlighting). Pipelines are created once per (source, entry point, override constants) and bind
 * groups once per (pipeline, buffers), since solver fields and expert slots are preallocated and
 * reused every step.
 */

const sourceCache = new Map<string, Promise<string>>();

/** Reads a `.wgsl` file given relative to a module, e.g. `loadWgsl('./wgsl/scale.wgsl', import.meta.url)`. */
export function loadWgsl(relativePath: string, base: string): Promise<string> {
  const url = new URL(relativePath, base);
  const key = url.href;
  let source = sourceCache.get(key);
  if (!source) {
    source =
      url.protocol === 'file:'
        ? import('node:fs/promises').then((fs) => fs.readFile(url, 'utf8'))
        : fetch(url).then((response) => {
            if (!response.ok) throw new Error(`cannot load WGSL ${key}: HTTP ${response.status}`);
            return response.text();
          });
    sourceCache.set(key, source);
  }
  return source;
}

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

export interface KernelSpec {
  code: string;
  entryPoint?: string;
  constants?: Record<string, number>;
  label?: string;
}

function isGpuBuffer(binding: Binding): binding is GPUBuffer {
  return typeof (binding as GPUBuffer).mapAsync === 'function';
}

let nextBufferId = 1;
const bufferIds = new WeakMap<GPUBuffer, number>();
function bufferId(buffer: GPUBuffer): number {
  let id = bufferIds.get(buffer);
  if (id === undefined) {
    id = nextBufferId++;
    bufferIds.set(buffer, id);
  }
  return id;
}

export class Kernel {
  readonly #bindGroups = new Map<string, GPUBindGroup>();
  constructor(
    readonly device: GPUDevice,
    readonly pipeline: GPUComputePipeline,
    readonly label: string,
  ) {}

  /** Bind group for `bindings` in binding order 0..n-1 of group 0 (cached by buffer identity). */
  bindGroup(bindings: readonly Binding[]): GPUBindGroup {
    const entries = bindings.map((binding, index) => ({
      binding: index,
      resource: isGpuBuffer(binding) ? { buffer: binding } : binding,
    }));
    const key = entries
      .map(
        (e) => `${bufferId(e.resource.buffer)}:${e.resource.offset ?? 0}:${e.resource.size ?? -1}`,
      )
      .join(',');
    let group = this.#bindGroups.get(key);
    if (!group) {
      group = this.device.createBindGroup({
        label: this.label,
        layout: this.pipeline.getBindGroupLayout(0),
        entries,
      });
      this.#bindGroups.set(key, group);
    }
    return group;
  }

  /** Forgets cached bind groups (call after destroying buffers that were bound). */
  clearBindGroups(): void {
    this.#bindGroups.clear();
  }
}

const kernelCaches = new WeakMap<GPUDevice, Map<string, Kernel>>();

/** Compiles (once per device) a compute pipeline; shader errors are thrown with their messages. */
export async function getKernel(device: GPUDevice, spec: KernelSpec): Promise<Kernel> {
  let cache = kernelCaches.get(device);
  if (!cache) {
    cache = new Map();
    kernelCaches.set(device, cache);
  }
  const entryPoint = spec.entryPoint ?? 'main';
  const key = `${entryPoint}|${JSON.stringify(spec.constants ?? {})}|${spec.code}`;
  const cached = cache.get(key);
  if (cached) return cached;

  const label = spec.label ?? entryPoint;
  // Scoped, so a broken shader is one thrown error rather than uncaptured-error noise.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code: spec.code });
  const info = await module.getCompilationInfo();
  const moduleError = await device.popErrorScope();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0 || moduleError) {
    const text = errors.map((m) => `  ${label}:${m.lineNum}:${m.linePos} ${m.message}`).join('\n');
    throw new Error(`WGSL compilation failed:\n${text || moduleError?.message}`);
  }
  device.pushErrorScope('validation');
  const created = await device
    .createComputePipelineAsync({
      label,
      layout: 'auto',
      compute: { module, entryPoint, ...(spec.constants ? { constants: spec.constants } : {}) },
    })
    .catch((error: Error) => error);
  const scopeError = await device.popErrorScope();
  if (created instanceof Error || scopeError) {
    const message = created instanceof Error ? created.message : scopeError?.message;
    throw new Error(`pipeline '${label}' is invalid: ${message}`);
  }
  const pipeline = created;
  const kernel = new Kernel(device, pipeline, label);
  cache.set(key, kernel);
  return kernel;
}
