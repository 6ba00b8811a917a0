/**
 * Thread counts that follow the machine's load, for the bench to try against fixed counts
 * (bench/waitPolicy.ts; bench/train.ts --adapt-threads load|steps). Two ways:
 *
 * - 'load': before each step, the cores that the other processes leave free by the 1-minute load
 *   average. The load average counts this process's own busy threads too, so they are taken off
 *   first: alone with n threads the load is about n and the count stays n; beside one busy loop the
 *   load is n + 1 and the count drops to cores − 1. The average lags by about a minute, so the
 *   count follows lasting load, not spikes.
 * - 'steps': from measured step times. Each candidate count (every core, one fewer, one) is timed,
 *   then the fastest by a moving average runs, and every `probeEvery` steps the candidate measured
 *   longest ago runs once, so a change of load is seen within a few probes.
 */
import os from 'node:os';

export const ADAPT_MODES = ['load', 'steps'] as const;
export type AdaptMode = (typeof ADAPT_MODES)[number];

interface ThreadSetter {
  getThreads(): number;
  setThreads(n: number): void;
}

/** oneDNN threads to use: cores minus the load others put on them (rounded), at least 1. */
export function threadsForLoad(load1m: number, cores: number, ownThreads: number): number {
  const others = Math.max(0, load1m - ownThreads);
  return Math.max(1, Math.min(cores, Math.round(cores - others)));
}

/** Picks a thread count per step from measured step times (see the file comment). */
export class StepTimeThreads {
  private readonly average = new Map<number, number>();
  private readonly lastRun = new Map<number, number>();
  private steps = 0;

  constructor(
    readonly candidates: readonly number[],
    readonly probeEvery = 10,
    /** weight of the newest step in the moving average */
    readonly alpha = 0.3,
  ) {
    if (candidates.length === 0) throw new Error('StepTimeThreads: no candidate thread counts');
  }

  /** The count for the next step. */
  next(): number {
    this.steps++;
    const unmeasured = this.candidates.find((c) => !this.average.has(c));
    if (unmeasured !== undefined) return unmeasured;
    if (this.steps % this.probeEvery === 0) {
      return [...this.candidates].sort((a, b) => this.lastRun.get(a)! - this.lastRun.get(b)!)[0];
    }
    return [...this.candidates].sort((a, b) => this.average.get(a)! - this.average.get(b)!)[0];
  }

  /** A step ran with `threads` and took `seconds`. */
  record(threads: number, seconds: number): void {
    const old = this.average.get(threads);
    this.average.set(threads, old === undefined ? seconds : old + this.alpha * (seconds - old));
    this.lastRun.set(threads, this.steps);
  }
}

/** Every core, one fewer, and one: the counts worth trying (distinct, largest first). */
export function candidateThreads(cores = os.availableParallelism()): number[] {
  return [...new Set([cores, Math.max(1, cores - 1), 1])];
}

/**
 * Wraps a step so that it runs with the mode's thread count; `seen` collects the counts used.
 * 'load' reads the load average before each step; 'steps' times each step for its chooser.
 */
export function adaptiveStep<T>(
  mode: AdaptMode,
  addon: ThreadSetter,
  step: () => Promise<T>,
  seen: Set<number>,
): () => Promise<T> {
  if (mode === 'load') {
    return async () => {
      const n = threadsForLoad(os.loadavg()[0], os.availableParallelism(), addon.getThreads());
      if (n !== addon.getThreads()) addon.setThreads(n);
      seen.add(n);
      return step();
    };
  }
  const chooser = new StepTimeThreads(candidateThreads());
  return async () => {
    const n = chooser.next();
    if (n !== addon.getThreads()) addon.setThreads(n);
    seen.add(n);
    const t0 = performance.now();
    const out = await step();
    chooser.record(n, (performance.now() - t0) / 1000);
    return out;
  };
}
