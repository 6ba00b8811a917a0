/**
 * Worker counts a machine cannot take are refused naming `workers` (issue #23, class 4): more
 * than its cores (2^31 workers started >1 000 threads), or more than its free memory holds (64
 * workers on 200 images took 2.1 GB), unless `oversubscribe` is set. The library check is tested
 * on stated machine sizes; createParallelTrainer on this machine refuses before starting a thread.
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { createParallelTrainer } from '../../src/train/parallel/parallelTrainer.js';
import { checkWorkerCount, WORKER_BYTES } from '../../src/train/parallel/workerLimits.js';
import { flagFor } from '../../src/cli/flagNames.js';
import { OptionError } from '../../src/util/optionError.js';

const twoCores = { cores: 2, freeBytes: 16 * 2 ** 30 };

describe('checkWorkerCount', () => {
  it.each([3, 64, 2 ** 31])('refuses %i workers on 2 cores, naming workers', (n) => {
    expect(() => checkWorkerCount(n, false, twoCores)).toThrow(
      new RegExp(`^workers ${n} is more than this machine's 2 cores .*oversubscribe: true`),
    );
  });

  it('refuses a count free memory cannot hold, with the figures', () => {
    const machine = { cores: 128, freeBytes: 1024 * 2 ** 20 };
    expect(() => checkWorkerCount(64, false, machine)).toThrow(
      /^workers 64 would need about 4096 MiB \(64 MiB a worker\) but 1024 MiB are free/,
    );
    expect(() => checkWorkerCount(16, false, machine)).not.toThrow();
    expect(16 * WORKER_BYTES).toBeLessThanOrEqual(machine.freeBytes);
  });

  it('accepts what fits, and anything with oversubscribe', () => {
    expect(() => checkWorkerCount(1, false, twoCores)).not.toThrow();
    expect(() => checkWorkerCount(2, false, twoCores)).not.toThrow();
    expect(() => checkWorkerCount(64, true, twoCores)).not.toThrow();
  });

  it('the CLI shows the same error with --workers', () => {
    try {
      checkWorkerCount(9, false, twoCores);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OptionError);
      expect((e as OptionError).render(flagFor)).toMatch(/^--workers 9 is more than/);
    }
  });
});

describe('createParallelTrainer', () => {
  it('refuses one worker more than the cores before starting any', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 2, inputShape: [3], activation: 'softmax' })],
    });
    const workers = os.availableParallelism() + 1;
    const started = createParallelTrainer({
      model,
      optimizer: tf.train.sgd(0.1),
      loss: 'categoricalCrossentropy',
      workers,
    });
    await expect(started).rejects.toThrow(new RegExp(`^workers ${workers} is more than`));
    const trainer = await started.catch(() => null);
    await trainer?.dispose();
    model.dispose();
  });
});
