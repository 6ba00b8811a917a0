/**
 * The competing load of the bench's load mode: CPU-bound processes (`node -e "for(;;){}"`, pinned
 * nowhere, as another user program would be) started and stopped by the bench itself, so the idle
 * and loaded figures come from one run. Every process started here is killed by its own pid when
 * stopped, and on exit or Ctrl-C, so a failed run leaves no busy loop behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface BusyLoops {
  pids: number[];
  stop: () => void;
}

const running = new Set<ChildProcess>();
let exitHooked = false;

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** Starts `count` busy loops (each one spinning on one core); `stop()` kills them. */
export function startBusyLoops(count: number): BusyLoops {
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(
      `startBusyLoops: count must be a positive integer, got ${JSON.stringify(count)}`,
    );
  }
  hookExit();
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    running.add(child);
    children.push(child);
  }
  return {
    pids: children.map((c) => c.pid ?? -1),
    stop: () => {
      for (const child of children) {
        child.kill('SIGKILL');
        running.delete(child);
      }
    },
  };
}
