/**
 * A reduction over a contiguous block of axes as an average pool: view x as [L, P, Q, R] where
 * P·Q are the reduced elements (P: all reduced axes but the last, Q: the last), L the axes before
 * them and R those after. Then mean = avgPool(window [P, Q]) — one XNNPACK pass, no transpose.
 * Pure arithmetic on shapes; the kernels in ./kernels/Sum.ts and Mean.ts use it.
 */

export interface PoolReductionView {
  /** product of the axes before the reduced block */
  lead: number;
  /** product of the reduced axes except the last */
  p: number;
  /** the last reduced axis */
  q: number;
  /** product of the axes after the reduced block (channels of the pool) */
  r: number;
}

/**
 * Below this many channels XNNPACK's pool runs mostly empty SIMD lanes, and wasm's own Sum (a
 * plain loop when the reduced axes are innermost) is as fast: measured on [N, 1] and [N, 2].
 */
export const MIN_POOL_CHANNELS = 4;

/** The [L, P, Q, R] view, or null when the pool route does not apply (the caller falls back). */
export function poolReductionView(
  shape: readonly number[],
  axes: readonly number[],
): PoolReductionView | null {
  if (axes.length === 0 || shape.some((d) => d === 0)) return null;
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.some((a, i) => a !== sorted[0] + i)) return null;
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const prod = (ds: readonly number[]) => ds.reduce((a, b) => a * b, 1);
  const view = {
    lead: prod(shape.slice(0, first)),
    p: prod(shape.slice(first, last)),
    q: shape[last],
    r: prod(shape.slice(last + 1)),
  };
  // XNNPACK refuses a 1×1 pool; a reduction over size-1 axes is a reshape anyway.
  if (view.p * view.q < 2 || view.r < MIN_POOL_CHANNELS) return null;
  return view;
}

/** Output shape of a reduction (keepDims: reduced axes become 1; else they are dropped). */
export function reducedShape(
  shape: readonly number[],
  axes: readonly number[],
  keepDims: boolean,
): number[] {
  const set = new Set(axes);
  return keepDims ? shape.map((d, i) => (set.has(i) ? 1 : d)) : shape.filter((_, i) => !set.has(i));
}
