/**
 * The arithmetic of data-parallel steps, as pure functions on numbers and typed arrays (the
 * trainer and the tests share them): how a batch is split, and the fixed-order weighted sum that
 * makes a seeded run repeat exactly.
 */

/** Contiguous rows [start, end) of a batch of `batch` rows for each of `workers` workers. */
export function shardRanges(batch: number, workers: number): Array<[number, number]> {
  const base = Math.floor(batch / workers);
  const extra = batch % workers;
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let w = 0; w < workers; w++) {
    const n = base + (w < extra ? 1 : 0);
    out.push([start, start + n]);
    start += n;
  }
  return out;
}

/**
 * Σ_w weights[w] · parts[w], element-wise, accumulated in float32 in the order given (worker 0
 * first). The order is fixed so that the same inputs give the same bits on every run.
 */
export function weightedSumInOrder(
  parts: readonly Float32Array[],
  weights: readonly number[],
): Float32Array {
  if (parts.length === 0 || parts.length !== weights.length) {
    throw new Error(
      `weightedSumInOrder: need one weight per part, got ${parts.length} parts and ${weights.length} weights`,
    );
  }
  const out = new Float32Array(parts[0].length);
  parts.forEach((p, w) => {
    if (p.length !== out.length) {
      throw new Error(
        `weightedSumInOrder: part ${w} has ${p.length} values, part 0 has ${out.length}`,
      );
    }
    const k = weights[w];
    if (k === 1) for (let i = 0; i < out.length; i++) out[i] += p[i];
    else for (let i = 0; i < out.length; i++) out[i] += k * p[i];
  });
  return out;
}
