/**
 * The figures of bench/rounds.ts, computed round by round and then summarised (median, min, max
 * over rounds): a round's sides ran minutes apart at most, so a ratio taken inside a round compares
 * one machine state, where whole phases far apart in time would not (this VM's cores sometimes run
 * at half speed together for minutes).
 */
import { pairedOverheadPct, summarize, type Summary } from './stats.js';

export type Side = 'doconv' | 'pytorch';
export type Condition = 'idle' | 'loaded';

/** One net and variant on one side, in one round and condition. */
export interface NetRow {
  round: number;
  condition: Condition;
  side: Side;
  net: string;
  variant: string;
  batch: number;
  /** The TF.js backend ('wasm', 'doconv-native', …) or 'pytorch'. */
  backend: string;
  /** What ran the ops ('native', 'wasm', …; 'pytorch'). */
  engine: string;
  /** Threads per op: oneDNN's for the native engine, torch.get_num_threads() for PyTorch. */
  threads: number | null;
  /** With --adapt-threads: every thread count the steps ran with. */
  threadsSeen?: number[];
  stepsPerWindow: number;
  /** images/s per timed window */
  windows: number[];
  imagesPerSec: Summary;
  /** CPU time (all threads) per step, per window, ms */
  cpuMsWindows: number[];
  cpuMsPerStep: Summary;
  /** Resident high-water mark while the variant was built, warmed up and stepped (bench/memory.ts). */
  peakRssBytes: number;
  peakRssResettable: boolean;
  /** TF.js side: the peak of live tensor bytes within one step (tf.profile's peakBytes). */
  peakTensorBytes?: number;
  firstLoss: number;
  lastLoss: number;
}

/** A net that failed on one side (out of memory, a missing kernel, …): recorded, the run goes on. */
export interface Failure {
  round: number;
  condition: Condition;
  side: Side;
  net: string;
  error: string;
}

const key = (r: { net: string; variant: string }) => `${r.net} ${r.variant}`;

/**
 * For each key, `valueOf` computed in every round where it is defined, summarised over those rounds.
 * `valueOf` gets the rows of one round and returns a value per key.
 */
export function overRounds(
  rows: readonly NetRow[],
  valueOf: (roundRows: NetRow[]) => Record<string, number>,
): Record<string, Summary> {
  const values = new Map<string, number[]>();
  for (const round of [...new Set(rows.map((r) => r.round))].sort((a, b) => a - b)) {
    const got = valueOf(rows.filter((r) => r.round === round));
    for (const [k, v] of Object.entries(got)) {
      if (!Number.isFinite(v)) continue;
      if (!values.has(k)) values.set(k, []);
      values.get(k)!.push(v);
    }
  }
  return Object.fromEntries([...values].map(([k, vs]) => [k, summarize(vs)]));
}

function find(rows: NetRow[], side: Side, condition: Condition, net: string, variant: string) {
  return rows.find(
    (r) => r.side === side && r.condition === condition && r.net === net && r.variant === variant,
  );
}

/** doconv ÷ PyTorch images/s (each the median of its windows) per net and variant, per round. */
export function ratioToTorch(rows: readonly NetRow[], condition: Condition) {
  return overRounds(rows, (round) => {
    const out: Record<string, number> = {};
    for (const r of round) {
      if (r.side !== 'doconv' || r.condition !== condition) continue;
      const t = find(round, 'pytorch', condition, r.net, r.variant);
      if (t) out[key(r)] = r.imagesPerSec.median / t.imagesPerSec.median;
    }
    return out;
  });
}

/** Loaded ÷ idle images/s of one side, per net and variant, per round: the kept fraction. */
export function keptFraction(rows: readonly NetRow[], side: Side) {
  return overRounds(rows, (round) => {
    const out: Record<string, number> = {};
    for (const r of round) {
      if (r.side !== side || r.condition !== 'loaded') continue;
      const idle = find(round, side, 'idle', r.net, r.variant);
      if (idle) out[key(r)] = r.imagesPerSec.median / idle.imagesPerSec.median;
    }
    return out;
  });
}

/**
 * DO-Conv's time overhead over Conv (%) on one side, per net: paired window by window inside a
 * round (the two variants alternate within each window), the round's median, then over rounds.
 */
export function doOverheadPct(rows: readonly NetRow[], side: Side, condition: Condition) {
  return overRounds(rows, (round) => {
    const out: Record<string, number> = {};
    for (const r of round) {
      if (r.side !== side || r.condition !== condition || r.variant === 'conv') continue;
      const base = find(round, side, condition, r.net, 'conv');
      if (base && base.windows.length === r.windows.length)
        out[key(r)] = pairedOverheadPct(base.windows, r.windows).median;
    }
    return out;
  });
}

/** The highest peak RSS of each side, net and variant over all rounds and conditions (bytes). */
export function peakMemory(rows: readonly NetRow[]): Record<string, Record<Side, number>> {
  const out: Record<string, Record<Side, number>> = {};
  for (const r of rows) {
    const entry = (out[key(r)] ??= { doconv: 0, pytorch: 0 });
    entry[r.side] = Math.max(entry[r.side], r.peakRssBytes);
  }
  return out;
}
