/**
 * Trains the two twins step by step on the same batches: step k feeds batch k to Conv, then to DO-Conv,
 * so at every point of the curves both have seen exactly the same data in the same order.
 */
import * as tf from '@tensorflow/tfjs';
import { batches, mixSeeds, type Batch, type Dataset } from '../../src/index.js';
import { yieldToBrowser } from './dom.js';
import { accuracy } from './evaluate.js';
import type { Twin, Twins } from './twins.js';

export interface TrainPlan {
  /** Optimizer steps per model. */
  steps: number;
  batchSize: number;
  /** Seeds the batch order (epoch e uses mixSeeds(seed, e)). */
  seed: number;
  /** Measure test accuracy every this many steps (and after the last). */
  evalEvery: number;
  /** The examples test accuracy is measured on. */
  evalSet: Dataset;
}

/** Per-model numbers, in the order [conv, doconv]. */
export type Pair = [number, number];

export interface TrainCallbacks {
  /** After both models took step `step`: their losses on the batch and mean ms per step so far. */
  onStep(step: number, losses: Pair, msPerStep: Pair): void;
  onEval(step: number, accuracies: Pair): void;
  /** Polled before each step; true ends training early. */
  shouldStop(): boolean;
}

/** Endless shuffled batches: a fresh permutation each epoch, partial last batches dropped. */
function* batchStream(ds: Dataset, batchSize: number, seed: number): Generator<Batch> {
  for (let epoch = 0; ; epoch++) {
    yield* batches(ds, batchSize, {
      shuffle: true,
      seed: mixSeeds(seed, epoch),
      dropRemainder: true,
    });
  }
}

async function trainStep(t: Twin, batch: Batch): Promise<[loss: number, ms: number]> {
  const start = performance.now();
  const loss = await t.model.trainOnBatch(batch.xs, batch.ys);
  return [Array.isArray(loss) ? loss[0] : loss, performance.now() - start];
}

/** Runs the plan; returns how many steps were taken (fewer than planned when stopped). */
export async function trainTwins(
  twins: Twins,
  train: Dataset,
  plan: TrainPlan,
  cb: TrainCallbacks,
): Promise<number> {
  const stream = batchStream(train, plan.batchSize, plan.seed);
  const totalMs: Pair = [0, 0];
  let step = 0;
  while (step < plan.steps && !cb.shouldStop()) {
    const batch = stream.next().value as Batch;
    try {
      const [lossConv, msConv] = await trainStep(twins.conv, batch);
      const [lossDo, msDo] = await trainStep(twins.doconv, batch);
      step++;
      totalMs[0] += msConv;
      totalMs[1] += msDo;
      cb.onStep(step, [lossConv, lossDo], [totalMs[0] / step, totalMs[1] / step]);
    } finally {
      tf.dispose([batch.xs, batch.ys]);
    }
    if (step % plan.evalEvery === 0 || step === plan.steps)
      await evaluateTwins(twins, plan.evalSet, step, cb);
    await yieldToBrowser();
  }
  stream.return(undefined);
  return step;
}

export async function evaluateTwins(
  twins: Twins,
  ds: Dataset,
  step: number,
  cb: Pick<TrainCallbacks, 'onEval'>,
): Promise<Pair> {
  const accuracies: Pair = [
    await accuracy(twins.conv.model, ds),
    await accuracy(twins.doconv.model, ds),
  ];
  cb.onEval(step, accuracies);
  return accuracies;
}
