// The MoE engine's two linear kernels (gemv.wgsl for <= 8 tokens, linear.wgsl above) against a
// plain-TS f64 product on the same f16 weights, at sizes the tiny models never reach: long rows
// (both of gemv's in-flight chunks and its ragged tail), row counts that do not fill a workgroup,
// every token bucket, bias, fused gate/up SwiGLU, and routed experts (gather, scatter, route weights).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { f16ToF32, f32ToF16 } from '../../src/io/halfFloat.ts';
import { MoeOps } from '../../src/moe/gpuOps.ts';
import { createBufferFrom, readBuffer, storageUsage } from '../../src/runtime/buffers.ts';
import { CommandBatch } from '../../src/runtime/commands.ts';
import { uniformGenerator } from '../../src/spectral/random.ts';
import { assertAllclose } from '../helpers/allclose.ts';
import { webGpuOrSkip } from '../helpers/devices.ts';

const { gpu, skip } = await webGpuOrSkip();

interface Case {
  tokens: number;
  rows: number;
  cols: number;
  gateUp?: boolean;
  bias?: boolean;
  routed?: boolean;
}

/** Expected outputs in f64 from the f16-rounded weights, same layout the kernels write. */
function expected(c: Case, w: Float32Array, x: Float32Array, b: Float32Array, lists: Lists) {
  const out = new Float64Array(lists.outRows * c.rows);
  for (let i = 0; i < c.tokens; i++) {
    const src = c.routed ? lists.gather[i]! : i;
    const dst = c.routed ? lists.scatter[i]! : i;
    for (let r = 0; r < c.rows; r++) {
      const dot = (row: number): number => {
        let s = 0;
        for (let k = 0; k < c.cols; k++) s += w[row * c.cols + k]! * x[src * c.cols + k]!;
        return s;
      };
      let v = dot(r);
      if (c.gateUp) v = (v / (1 + Math.exp(-v))) * dot(c.rows + r);
      if (c.bias) v += b[r]!;
      if (c.routed) v *= lists.routeWeights[dst]!;
      out[dst * c.rows + r] = v;
    }
  }
  return out;
}

interface Lists {
  gather: number[];
  scatter: number[];
  routeWeights: Float32Array;
  inRows: number;
  outRows: number;
}

async function run(c: Case): Promise<{ got: Float32Array; want: Float64Array }> {
  const device = gpu!.gpu;
  const random = uniformGenerator(c.tokens * 1000 + c.rows + c.cols);
  const values = (n: number, scale: number): Float32Array =>
    Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  const matrices = c.gateUp ? 2 : 1;
  const wBits = f32ToF16(values(matrices * c.rows * c.cols, 1 / Math.sqrt(c.cols)));
  const w = f16ToF32(wBits);
  // Routed: the i-th token of the expert reads row gather[i] and writes (token, k) slot scatter[i].
  const lists: Lists = {
    gather: Array.from({ length: c.tokens }, (_, i) => (c.routed ? 2 * i + 1 : i)),
    scatter: Array.from({ length: c.tokens }, (_, i) => (c.routed ? 3 * i + 2 : i)),
    routeWeights: values(3 * c.tokens + 3, 1),
    inRows: c.routed ? 2 * c.tokens + 1 : c.tokens,
    outRows: c.routed ? 3 * c.tokens + 3 : c.tokens,
  };
  const x = values(lists.inRows * c.cols, 1);
  const b = values(c.rows, 0.5);
  const ops = await MoeOps.create(device, 64, 16);
  const gather = ops.meta.push(lists.gather);
  const scatter = ops.meta.push(lists.scatter);
  const yBytes = 4 * lists.outRows * c.rows;
  const buffers = {
    w: createBufferFrom(device, wBits, storageUsage(), 'w'),
    x: createBufferFrom(device, x, GPUBufferUsage.STORAGE, 'x'),
    y: createBufferFrom(device, new Float32Array(yBytes / 4), storageUsage(), 'y'),
    b: createBufferFrom(device, b, GPUBufferUsage.STORAGE, 'b'),
    route: createBufferFrom(device, lists.routeWeights, GPUBufferUsage.STORAGE, 'route'),
  };
  const batch = new CommandBatch(device);
  ops.linear(batch, {
    weights: buffers.w,
    x: buffers.x,
    y: buffers.y,
    tokens: c.tokens,
    rows: c.rows,
    cols: c.cols,
    bias: c.bias ? buffers.b : null,
    gateUp: c.gateUp ?? false,
    ...(c.routed ? { gather, scatter, routeWeights: buffers.route } : {}),
  });
  ops.flush();
  batch.submit();
  const got = new Float32Array(await readBuffer(device, buffers.y, yBytes));
  for (const buffer of Object.values(buffers)) buffer.destroy();
  ops.destroy();
  return { got, want: expected(c, w, x, b, lists) };
}

describe('MoE linear kernels (gemv <= 8 tokens, tiled above) against f64', { skip }, () => {
  const cases: Case[] = [
    { tokens: 1, rows: 37, cols: 1032 },
    { tokens: 1, rows: 20, cols: 4096, gateUp: true },
    { tokens: 2, rows: 9, cols: 520, bias: true },
    { tokens: 3, rows: 33, cols: 1032, gateUp: true, routed: true },
    { tokens: 8, rows: 17, cols: 776, routed: true, bias: true },
    { tokens: 11, rows: 13, cols: 1032, gateUp: true, routed: true },
  ];
  for (const c of cases) {
    it(JSON.stringify(c), async () => {
      const { got, want } = await run(c);
      assert.ok(want.some((v) => v !== 0));
      assertAllclose(got, Float32Array.from(want), { rtol: 1e-4, atol: 1e-5 });
    });
  }
});
