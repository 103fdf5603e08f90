// The WGSL toolkit against plain-TS references: streaming scale, two-pass sum, many dispatches in one
// submit, compile errors, and GPU timestamps where the feature exists.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createBufferFrom,
  createStorageBuffer,
  createUniformBuffer,
  readFloat32,
} from '../../src/runtime/buffers.ts';
import { CommandBatch, GpuTimer } from '../../src/runtime/commands.ts';
import { getKernel, loadWgsl } from '../../src/runtime/kernels.ts';
import { planSum } from '../../src/runtime/reductions.ts';
import { assertAllclose } from '../helpers/allclose.ts';
import { webGpuOrSkip } from '../helpers/devices.ts';

const { gpu: device, skip } = await webGpuOrSkip();
const scaleSource = loadWgsl('../../src/runtime/wgsl/scale.wgsl', import.meta.url);

function scaleParams(count: number, scale: number): Uint8Array {
  const bytes = new ArrayBuffer(16);
  new Uint32Array(bytes)[0] = count / 4;
  new Float32Array(bytes)[1] = scale;
  return new Uint8Array(bytes);
}

function seededValues(n: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

describe('WGSL kernels on webgpu', { skip }, () => {
  it('scale.wgsl matches the TS reference', async () => {
    const gpu = device!.gpu;
    const n = 4 * 10_000;
    const x = seededValues(n, 1);
    const src = createBufferFrom(gpu, x);
    const dst = createStorageBuffer(gpu, 4 * n);
    const kernel = await getKernel(gpu, { code: await scaleSource, label: 'scale' });
    // 7 workgroups of 256 threads cover 10k vec4s only through the grid-stride loop.
    new CommandBatch(gpu)
      .dispatch(kernel, [src, dst, createUniformBuffer(gpu, scaleParams(n, -1.75))], 7)
      .submit();
    assertAllclose(
      await readFloat32(gpu, dst),
      x.map((v) => -1.75 * v),
      { rtol: 1e-7, atol: 0 },
    );
  });

  it('many dispatches recorded in one batch run in order', async () => {
    const gpu = device!.gpu;
    const n = 4096;
    const x = seededValues(n, 2);
    const a = createBufferFrom(gpu, x);
    const b = createStorageBuffer(gpu, 4 * n);
    const params = createUniformBuffer(gpu, scaleParams(n, 2));
    const kernel = await getKernel(gpu, { code: await scaleSource, label: 'scale' });
    const batch = new CommandBatch(gpu);
    for (let i = 0; i < 10; i++) batch.dispatch(kernel, i % 2 ? [b, a, params] : [a, b, params], 4);
    assert.equal(batch.dispatchCount, 10);
    batch.submit();
    assertAllclose(
      await readFloat32(gpu, a),
      x.map((v) => 1024 * v),
      { rtol: 1e-7, atol: 0 },
    );
  });

  it('planSum matches a float64 sum over 1e6 values', async () => {
    const gpu = device!.gpu;
    const n = 1_000_003;
    const x = seededValues(n, 3).map((v) => v + 0.25);
    const reference = x.reduce((s, v) => s + v, 0);
    const plan = await planSum(gpu, createBufferFrom(gpu, x), n);
    const batch = new CommandBatch(gpu);
    plan.record(batch);
    batch.submit();
    const [sum] = await readFloat32(gpu, plan.result, 1);
    assert.ok(
      Math.abs(sum! - reference) / Math.abs(reference) < 1e-5,
      `sum ${sum} vs float64 ${reference}`,
    );
  });

  it('reports WGSL compile errors with their position', async () => {
    const gpu = device!.gpu;
    await assert.rejects(
      getKernel(gpu, {
        code: '@compute @workgroup_size(1) fn main() { let x: f32 = undefined_name; }',
        label: 'broken',
      }),
      /WGSL compilation failed:[\s\S]*broken:1:/,
    );
  });

  it('GPU timestamps time each pass', async (t) => {
    const gpu = device!.gpu;
    if (!GpuTimer.supported(gpu)) {
      t.skip('adapter has no timestamp-query feature');
      return;
    }
    const n = 1 << 20;
    const src = createStorageBuffer(gpu, 4 * n);
    const dst = createStorageBuffer(gpu, 4 * n);
    const kernel = await getKernel(gpu, { code: await scaleSource, label: 'scale' });
    const timer = new GpuTimer(gpu, 4);
    const batch = new CommandBatch(gpu, timer);
    const params = createUniformBuffer(gpu, scaleParams(n, 1));
    for (const label of ['first', 'second'])
      batch.beginPass(label).dispatch(kernel, [src, dst, params], 256);
    batch.submit();
    const passes = await timer.read();
    assert.deepEqual(
      passes.map((p) => p.label),
      ['first', 'second'],
    );
    for (const p of passes) assert.ok(p.ms > 0 && p.ms < 1000, `${p.label}: ${p.ms} ms`);
  });
});
