/**
 * Peak memory of a benchmark phase, the same way on both sides (bench/torch_train.py reads the same
 * /proc fields): the kernel's high-water mark of resident memory (VmHWM), reset before the phase by
 * writing 5 to /proc/self/clear_refs (Linux ≥ 4.0). Peak RSS counts everything a step holds —
 * the wasm heap, native buffers, PyTorch's allocations — where each library's own counters see only
 * their part. Elsewhere (no /proc), the process's lifetime maximum (resourceUsage().maxRSS), which
 * cannot be reset: `resettable` says which one a figure is.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface PeakRss {
  /** Highest resident set since the last reset (or since the process started), bytes. */
  peakBytes: number;
  /** Whether the peak was reset before the phase (Linux /proc) or is the process's lifetime maximum. */
  resettable: boolean;
}

/** Starts a new high-water mark; false where the kernel offers none (the peak is then lifetime). */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** `VmHWM:   123 kB` of /proc/<pid>/status, in bytes; null when the field is absent. */
export function parseVmHwm(status: string): number | null {
  const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/** The peak resident set since resetPeakRss() (see the file comment). */
export function peakRss(): PeakRss {
  try {
    const bytes = parseVmHwm(readFileSync('/proc/self/status', 'utf8'));
    if (bytes !== null) return { peakBytes: bytes, resettable: true };
  } catch {
    // not Linux: fall through
  }
  return { peakBytes: process.resourceUsage().maxRSS * 1024, resettable: false };
}

/** "123.4 MiB" */
export function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
