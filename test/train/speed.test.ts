/** measureTrainingSpeed (`doconv bench --quick`): the trainer's own loop on random images, timed. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { measureTrainingSpeed } from '../../src/train/index.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('measureTrainingSpeed', () => {
  for (const workers of [1, 2]) {
    it(`times the trainer's steps (workers ${workers}) and leaves no tensors behind`, async () => {
      const opts = {
        model: 'pt-mnist-sample' as const,
        conv: 'doconv' as const,
        batchSize: 8,
        steps: 3,
        warmupSteps: 1,
        backend: 'wasm' as const,
        workers,
      };
      await measureTrainingSpeed(opts); // one-time kernel tensors
      const before = tf.memory().numTensors;
      const r = await measureTrainingSpeed(opts);
      expect(tf.memory().numTensors).toBe(before);
      expect(r).toMatchObject({
        model: 'pt-mnist-sample',
        conv: 'doconv',
        backend: 'wasm',
        workers,
        batchSize: 8,
        steps: 3,
      });
      expect(r.imagesPerSecond).toBeGreaterThan(0);
      expect(r.secondsPerStep * r.imagesPerSecond).toBeCloseTo(8, 6);
    });
  }

  it('names a bad argument', async () => {
    await expect(measureTrainingSpeed({ steps: 0 })).rejects.toThrow(
      'steps must be a positive integer, got 0',
    );
    await expect(measureTrainingSpeed({ workers: 0, steps: 1, warmupSteps: 0 })).rejects.toThrow(
      'workers must be an integer ≥ 1, got 0',
    );
  });
});
