/**
 * Numeric comparison for tests: numpy's allclose rule |a - e| <= atol + rtol * |e|, failing with the
 * worst element, its index and both values so a failure says what went wrong.
 */
import assert from 'node:assert/strict';

export type Numeric = ArrayLike<number>;

export function assertAllclose(
  actual: Numeric,
  expected: Numeric,
  {
    rtol = 1e-5,
    atol = 1e-8,
    what = 'values',
  }: { rtol?: number; atol?: number; what?: string } = {},
): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: length ${actual.length} != ${expected.length}`,
  );
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (Number.isNaN(a) !== Number.isNaN(e) || excess > worstExcess) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what} differ at index ${worst}: actual ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** ‖a − b‖ / ‖b‖ over all fields of two equally shaped lists (the L² relative error). */
export function relativeL2(a: Numeric[], b: Numeric[]): number {
  let num = 0;
  let den = 0;
  a.forEach((f, i) => {
    for (let j = 0; j < f.length; j++) {
      num += (f[j]! - b[i]![j]!) ** 2;
      den += b[i]![j]! ** 2;
    }
  });
  return Math.sqrt(num / den);
}
