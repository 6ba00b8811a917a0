import { describe, expect, it } from 'vitest';
import { threadsForLoad } from '../../bench/adaptiveThreads.js';

describe('bench adaptive thread count', () => {
  it('keeps every core when the load is its own', () => {
    expect(threadsForLoad(2, 2, 2)).toBe(2);
    expect(threadsForLoad(0.3, 8, 8)).toBe(8);
  });
  it('leaves a core to each lasting busy process, never going below one thread', () => {
    expect(threadsForLoad(3, 2, 2)).toBe(1); // one busy loop beside two threads
    expect(threadsForLoad(2, 2, 1)).toBe(1); // the same machine after the drop: stays at one
    expect(threadsForLoad(10.4, 8, 4)).toBe(2);
    expect(threadsForLoad(16, 2, 1)).toBe(1);
  });
  it('goes back up when the others stop', () => {
    expect(threadsForLoad(1.1, 2, 1)).toBe(2);
  });
});
