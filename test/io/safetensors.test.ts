// safetensors: write/read round trips for every float dtype, ranged reads, and one clear error per
// kind of malformed file.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { f32ToBf16, f32ToF16 } from '../../src/io/halfFloat.ts';
import { encodeSafetensors, SafetensorsFile, writeSafetensors } from '../../src/io/safetensors.ts';

const dir = await mkdtemp(join(tmpdir(), 'driftflow-st-'));

/** A file from a raw header object and data block (for malformed cases). */
async function rawFile(
  name: string,
  header: unknown,
  dataBytes: number,
  headerLength?: number,
): Promise<string> {
  const json = Buffer.from(JSON.stringify(header));
  const out = Buffer.alloc(8 + json.length + dataBytes);
  out.writeBigUInt64LE(BigInt(headerLength ?? json.length), 0);
  json.copy(out, 8);
  const path = join(dir, name);
  await writeFile(path, out);
  return path;
}

describe('safetensors round trip', () => {
  const values = Float32Array.from([0.5, -1.25, 3, 1e-3, 7, -8]);

  it('reads back F32, F16, BF16 and I32 tensors and metadata', async () => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(
      path,
      {
        'a.f32': { dtype: 'F32', shape: [2, 3], data: values },
        'b.f16': { dtype: 'F16', shape: [6], data: f32ToF16(values) },
        'c.bf16': { dtype: 'BF16', shape: [3, 2], data: f32ToBf16(values) },
        'd.i32': { dtype: 'I32', shape: [2], data: Int32Array.of(7, -9) },
      },
      { format: 'pt' },
    );
    const file = await SafetensorsFile.open(path);
    try {
      assert.deepEqual(file.metadata, { format: 'pt' });
      assert.deepEqual(file.info('c.bf16').shape, [3, 2]);
      assert.deepEqual([...(await file.readFloat32('a.f32'))], [...values]);
      const f16 = await file.readFloat32('b.f16');
      const bf16 = await file.readFloat32('c.bf16');
      for (let i = 0; i < values.length; i++) {
        assert.ok(Math.abs(f16[i]! - values[i]!) <= 1e-3 * Math.abs(values[i]!), `f16 ${i}`);
        assert.ok(Math.abs(bf16[i]! - values[i]!) <= 8e-3 * Math.abs(values[i]!), `bf16 ${i}`);
      }
      assert.deepEqual(
        [...new Int32Array((await file.readBytes('d.i32')).slice().buffer)],
        [7, -9],
      );
      await assert.rejects(file.readFloat32('d.i32'), /'d.i32' is I32, not a float type/);
      await assert.rejects(file.readBytes('missing'), /no tensor 'missing'/);
    } finally {
      await file.close();
    }
  });

  it('reads a tensor straight into a caller-owned buffer at its byte range only', async () => {
    const path = join(dir, 'ranged.safetensors');
    const big = new Float32Array(1 << 16).fill(1);
    await writeSafetensors(path, {
      big: { dtype: 'F32', shape: [1 << 16], data: big },
      small: { dtype: 'F32', shape: [6], data: values },
    });
    const file = await SafetensorsFile.open(path);
    const target = new Uint8Array(64).fill(0xee);
    const bytes = await file.readBytes('small', target);
    await file.close();
    assert.equal(bytes.buffer, target.buffer);
    assert.deepEqual([...new Float32Array(target.buffer, 0, 6)], [...values]);
    assert.equal(target[24], 0xee, 'bytes past the tensor are untouched');
  });

  it('pads the header to 8 bytes', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + headerLength) % 8, 0);
  });
});

describe('malformed safetensors files give clear errors', () => {
  const ok = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: [string, () => Promise<string>, RegExp][] = [
    [
      'too short for the length field',
      async () => {
        const path = join(dir, 'short.safetensors');
        await writeFile(path, Buffer.from([1, 2, 3]));
        return path;
      },
      /only 3 bytes: too short/,
    ],
    [
      'header length beyond the file',
      () => rawFile('long.safetensors', ok, 8, 10_000),
      /header length 10000 runs past the end/,
    ],
    [
      'header length over the bound',
      () => rawFile('huge.safetensors', ok, 8, 2 ** 40),
      /exceeds the 100000000-byte bound/,
    ],
    [
      'truncated data',
      () => rawFile('trunc.safetensors', ok, 4),
      /'x' ends at byte 8 of the data block, which has only 4 bytes \(truncated/,
    ],
    [
      'offsets out of range',
      () =>
        rawFile('range.safetensors', { x: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 8),
      /'x' ends at byte 16/,
    ],
    [
      'reversed offsets',
      () =>
        rawFile('rev.safetensors', { x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8),
      /invalid data_offsets \[8,0\]/,
    ],
    [
      'overlapping tensors',
      () =>
        rawFile(
          'overlap.safetensors',
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          },
          12,
        ),
      /'a' and 'b' overlap/,
    ],
    [
      'unknown dtype',
      () =>
        rawFile('dtype.safetensors', { x: { dtype: 'F12', shape: [2], data_offsets: [0, 8] } }, 8),
      /unknown dtype "F12" \(known: BOOL/,
    ],
    [
      'size not matching the shape',
      () =>
        rawFile('size.safetensors', { x: { dtype: 'F16', shape: [2], data_offsets: [0, 8] } }, 8),
      /has 8 bytes but F16\[2\] needs 4/,
    ],
    [
      'negative dimension',
      () =>
        rawFile('shape.safetensors', { x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8),
      /invalid shape \[-2\]/,
    ],
    [
      'header not JSON',
      async () => {
        const path = join(dir, 'json.safetensors');
        const out = Buffer.alloc(8 + 5);
        out.writeBigUInt64LE(5n, 0);
        out.write('{nope', 8);
        await writeFile(path, out);
        return path;
      },
      /the header is not valid JSON/,
    ],
  ];
  for (const [name, make, message] of cases) {
    it(name, async () => {
      const path = await make();
      await assert.rejects(SafetensorsFile.open(path), (error: Error) => {
        assert.equal(error.name, 'SafetensorsError');
        assert.match(error.message, /not a valid safetensors file/);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});
