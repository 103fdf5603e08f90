// Half-precision conversions checked exhaustively against Node's Float16Array (an independent
// implementation) and against hand-worked bfloat16 rounding cases.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/io/halfFloat.ts';

const NativeF16 = (globalThis as unknown as { Float16Array?: Float32ArrayConstructor })
  .Float16Array;

it(
  'f16 -> f32 matches Float16Array for all 65536 bit patterns',
  {
    skip: NativeF16 ? false : 'no Float16Array in this Node',
  },
  () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const ours = f16ToF32(bits);
    const native = new NativeF16!(bits.buffer);
    for (let i = 0; i < 65536; i++) {
      assert.ok(
        Object.is(ours[i], native[i]) || (Number.isNaN(ours[i]) && Number.isNaN(native[i])),
        `bits ${i}`,
      );
    }
  },
);

it(
  'f32 -> f16 rounds like Float16Array (ties to even, subnormals, overflow)',
  {
    skip: NativeF16 ? false : 'no Float16Array in this Node',
  },
  () => {
    let state = 12345;
    const values = Float32Array.from({ length: 200_000 }, (_, i) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const magnitude = 2 ** ((state % 48) - 30);
      return (i % 2 ? -1 : 1) * magnitude * (1 + (state >>> 8) / 2 ** 24);
    });
    const extra = [
      0,
      -0,
      65504,
      65520,
      65519.98828125,
      1e-8,
      2 ** -24,
      2.98e-8,
      Number.POSITIVE_INFINITY,
    ];
    const all = Float32Array.from([...values, ...extra]);
    const ours = f32ToF16(all);
    const native = new Uint16Array(new NativeF16!(all).buffer);
    for (let i = 0; i < all.length; i++) assert.equal(ours[i], native[i], `value ${all[i]}`);
  },
);

it('bf16 round trip and round-to-nearest-even', () => {
  const exact = Float32Array.from([0, 1, -2, 3.5, 2 ** -100, 65536, Number.NEGATIVE_INFINITY]);
  assert.deepEqual([...bf16ToF32(f32ToBf16(exact))], [...exact]);
  // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one, 1.
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties go to 1 + 2^-6.
  const ties = Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20]);
  assert.deepEqual([...bf16ToF32(f32ToBf16(ties))], [1, 1 + 2 ** -6, 1 + 2 ** -7]);
  assert.ok(Number.isNaN(bf16ToF32(f32ToBf16(Float32Array.of(Number.NaN)))[0]));
});
