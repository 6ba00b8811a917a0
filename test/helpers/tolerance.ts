/**
 * max |a − e| / max |e|: error relative to the magnitude of the expected tensor, which is what
 * float32 sums in a different order can promise (element-wise relative error is meaningless where
 * sums cancel to ~0). The 1e-12 floor lets an all-zero expectation compare. NaN anywhere → Infinity.
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`relativeError: lengths differ (${actual.length} vs ${expected.length})`);
  }
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  if (Number.isNaN(diff) || Array.from(actual).some(Number.isNaN)) return Infinity;
  return diff / Math.max(scale, 1e-12);
}

/** Throws naming `what` when actual is not within rtol·max|expected| of expected. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  what = 'value',
): void {
  const err = relativeError(actual, expected);
  if (!(err <= rtol)) throw new Error(`${what}: relative error ${err.toExponential(3)} > ${rtol}`);
}

/** Seeded normal samples (mulberry32 + Box–Muller), so failures reproduce. */
export function randomNormal(count: number, seed: number): Float64Array {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u = Math.max(uniform(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}
