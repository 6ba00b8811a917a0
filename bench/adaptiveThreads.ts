/**
 * A thread count that follows the machine's load, for the bench to try against fixed counts
 * (bench/waitPolicy.ts, policy 'adaptive'): before each step, the cores that the other processes
 * leave free by the 1-minute load average. The load average counts this process's own busy threads
 * too, so they are taken off first: alone on the machine with n threads the load is about n and
 * the count stays n; with one busy loop beside it, the load is n + 1 and the count drops to
 * cores − 1. The average lags by about a minute, so the count follows lasting load, not spikes.
 */
import os from 'node:os';

/** oneDNN threads to use: cores minus the load others put on them (rounded), at least 1. */
export function threadsForLoad(load1m: number, cores: number, ownThreads: number): number {
  const others = Math.max(0, load1m - ownThreads);
  return Math.max(1, Math.min(cores, Math.round(cores - others)));
}

/** Sets the addon's threads from the load now; returns the count. */
export function adaptThreads(addon: { getThreads(): number; setThreads(n: number): void }): number {
  const n = threadsForLoad(os.loadavg()[0], os.availableParallelism(), addon.getThreads());
  if (n !== addon.getThreads()) addon.setThreads(n);
  return n;
}
