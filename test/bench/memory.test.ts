import { describe, expect, it } from 'vitest';
import { parseVmHwm, peakRss, resetPeakRss } from '../../bench/memory.js';

describe('bench peak memory', () => {
  it('reads VmHWM in bytes from /proc/<pid>/status', () => {
    const status = 'Name:\tnode\nVmPeak:\t 999 kB\nVmHWM:\t  2048 kB\nVmRSS:\t 1024 kB\n';
    expect(parseVmHwm(status)).toBe(2048 * 1024);
    expect(parseVmHwm('Name:\tnode\n')).toBeNull();
  });

  it.runIf(process.platform === 'linux')(
    'resets the high-water mark, which then grows with what the process touches',
    () => {
      expect(resetPeakRss()).toBe(true);
      const before = peakRss();
      expect(before.resettable).toBe(true);
      const buffer = Buffer.alloc(64 * 2 ** 20, 1); // touched: 64 MiB resident
      const after = peakRss().peakBytes;
      expect(after - before.peakBytes).toBeGreaterThan(60 * 2 ** 20);
      expect(buffer[12345]).toBe(1);
    },
  );
});
