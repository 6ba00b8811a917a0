import { describe, expect, it } from 'vitest';
import { candidateThreads, StepTimeThreads, threadsForLoad } from '../../bench/adaptiveThreads.js';

describe('bench adaptive thread count from the load average', () => {
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

describe('bench adaptive thread count from step times', () => {
  /** Runs `steps` steps whose time per thread count is `secondsOf(threads, step)`; returns the counts. */
  function run(
    chooser: StepTimeThreads,
    steps: number,
    secondsOf: (n: number, i: number) => number,
  ) {
    const used: number[] = [];
    for (let i = 0; i < steps; i++) {
      const n = chooser.next();
      chooser.record(n, secondsOf(n, i));
      used.push(n);
    }
    return used;
  }

  it('times each candidate once, then runs the fastest and probes the others now and then', () => {
    const chooser = new StepTimeThreads([2, 1], 5);
    const used = run(chooser, 20, (n) => (n === 2 ? 0.5 : 0.9));
    expect(used.slice(0, 2)).toEqual([2, 1]);
    expect(used.filter((n) => n === 1).length).toBe(1 + 4); // the first timing and a probe every 5th
    expect(used.filter((n) => n === 2).length).toBe(15);
  });

  it('moves to one thread when load makes two slow, and back when it goes', () => {
    const chooser = new StepTimeThreads([2, 1], 4);
    // steps 0–19 idle (2 threads faster), 20–59 loaded (2 threads 3× slower), 60–99 idle again
    const loaded = (i: number) => i >= 20 && i < 60;
    const used = run(chooser, 100, (n, i) => (n === 2 ? (loaded(i) ? 1.5 : 0.5) : 0.8));
    const share = (from: number, to: number, n: number) =>
      used.slice(from, to).filter((u) => u === n).length / (to - from);
    expect(share(5, 20, 2)).toBeGreaterThan(0.7);
    expect(share(30, 60, 1)).toBeGreaterThan(0.7);
    expect(share(75, 100, 2)).toBeGreaterThan(0.7);
  });

  it('tries every core, one fewer and one', () => {
    expect(candidateThreads(8)).toEqual([8, 7, 1]);
    expect(candidateThreads(2)).toEqual([2, 1]);
    expect(candidateThreads(1)).toEqual([1]);
  });
});
