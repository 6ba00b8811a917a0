/**
 * Small statistics for benchmarks on a shared machine: medians over timed windows, their spread,
 * and paired ratios (two variants timed back to back in the same window share that window's load).
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(xs: readonly number[]): Summary {
  if (xs.length === 0) throw new Error('summarize: no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/**
 * Overhead of `variant` over `base` in %, window by window: base/variant − 1 for throughputs
 * (how much longer the variant takes per image), summarised over the windows.
 */
export function pairedOverheadPct(base: readonly number[], variant: readonly number[]): Summary {
  if (base.length !== variant.length) {
    throw new Error(
      `pairedOverheadPct: ${base.length} base windows vs ${variant.length} variant windows`,
    );
  }
  return summarize(base.map((b, i) => (b / variant[i] - 1) * 100));
}

/** Order of the variants in window `w`: reversed every other window, so neither always runs first. */
export function windowOrder<T>(items: readonly T[], w: number): T[] {
  return w % 2 === 0 ? [...items] : [...items].reverse();
}
