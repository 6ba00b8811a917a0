/**
 * How many worker threads a machine can take: each is a thread computing on one core, with its own
 * tfjs and wasm instance (~30 MB) plus its share of the activations. Past the core count they only
 * take turns (and take memory: 64 workers on 200 images held 2.1 GB), and a count like 2^31 would
 * start threads until the process dies. So a count past the cores, or past what free memory holds
 * at WORKER_BYTES each, is refused naming `workers`, unless `oversubscribe` says to start them.
 */
import os from 'node:os';
import { OptionError } from '../../util/optionError.js';

/** Memory a worker is counted at: its tfjs/wasm instance plus headroom for activations. */
export const WORKER_BYTES = 64 * 2 ** 20;

export interface MachineSize {
  cores: number;
  freeBytes: number;
}

export function thisMachine(): MachineSize {
  return { cores: os.availableParallelism(), freeBytes: os.freemem() };
}

/**
 * Throws an OptionError naming `option` (`workers`, or compare's `jobs`: runs side by side, a
 * thread each) when `workers` threads exceed the machine (see above).
 */
export function checkWorkerCount(
  workers: number,
  oversubscribe = false,
  machine: MachineSize = thisMachine(),
  option = 'workers',
): void {
  if (oversubscribe) return;
  const force = (n: (name: string, setting?: string) => string) =>
    `; ${n('oversubscribe', 'true')} starts them anyway`;
  if (workers > machine.cores) {
    throw new OptionError(
      [option, 'oversubscribe'],
      (n) =>
        `${n(option)} ${workers} is more than this machine's ${machine.cores} cores ` +
        `(each worker is a thread computing on one core)${force(n)}`,
    );
  }
  const mib = Math.round(WORKER_BYTES / 2 ** 20);
  if (workers * WORKER_BYTES > machine.freeBytes) {
    throw new OptionError(
      [option, 'oversubscribe'],
      (n) =>
        `${n(option)} ${workers} would need about ${workers * mib} MiB (${mib} MiB a worker) ` +
        `but ${Math.round(machine.freeBytes / 2 ** 20)} MiB are free${force(n)}`,
    );
  }
}
