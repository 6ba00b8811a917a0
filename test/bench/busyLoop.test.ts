import { describe, expect, it } from 'vitest';
import { startBusyLoops } from '../../bench/busyLoop.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('bench busy loops', () => {
  it('starts the loops and stop() kills each by its pid', async () => {
    const loops = startBusyLoops(2);
    expect(loops.pids).toHaveLength(2);
    expect(loops.pids.every(alive)).toBe(true);
    loops.stop();
    for (let i = 0; i < 50 && loops.pids.some(alive); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(loops.pids.some(alive)).toBe(false);
  });

  it('refuses a count that is not a positive integer, naming it', () => {
    expect(() => startBusyLoops(0)).toThrow('count must be a positive integer, got 0');
  });
});
