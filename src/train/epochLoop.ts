/**
 * The epochs of a run, whatever the task: from where the history ends to the last epoch, each one
 * trained (trainSteps), evaluated on the test set and recorded as a metrics line, on this thread or
 * with worker threads that live as long as the loop. The metrics and how they are shown are the
 * task's (trainingTask.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { ScheduledOptimizer } from './optimizers.js';
import { createParallelTrainer, type ParallelTrainer } from './parallel/parallelTrainer.js';
import type { LossSpec } from './parallel/protocol.js';
import type { EpochResult } from './trainSteps.js';

/** Worker threads for each step's forward/backward half. */
export interface LoopWorkers {
  /** 1 computes on this thread. */
  count: number;
  /** The loss the workers compute (the one the steps minimise). */
  loss: LossSpec;
  /** Modules registering custom layer classes, imported in each worker thread. */
  imports?: string[];
  /** Start `count` threads past the machine's cores or free memory (createParallelTrainer's). */
  oversubscribe?: boolean;
}

/** What the loop asks the caller for; M is one metrics line. */
export interface EpochLoop<M> {
  epochs: number;
  workers: LoopWorkers;
  /** One epoch's training steps (`epoch` is 0-based). */
  train(epoch: number, parallel: ParallelTrainer | undefined): Promise<EpochResult>;
  /** The test-set evaluation after an epoch; returns the maker of the epoch's metrics line. */
  evaluate(): (epoch: number, trained: EpochResult, evalSeconds: number) => M;
  /** After each epoch's record, with the history so far (checkpointing happens here). */
  afterEpoch?: (metrics: M, history: readonly M[]) => Promise<void>;
  /** Shows the finished epoch (after afterEpoch). */
  report(metrics: M): void;
}

/** Trains from epoch `history.length` to `loop.epochs`; returns the full history. */
export async function runEpochLoop<M>(
  model: tf.LayersModel,
  optimizer: ScheduledOptimizer,
  history: readonly M[],
  loop: EpochLoop<M>,
): Promise<M[]> {
  const done = [...history];
  const parallel = await startParallel(model, optimizer, loop.workers);
  try {
    for (let epoch = done.length; epoch < loop.epochs; epoch++) {
      const trained = await loop.train(epoch, parallel);
      const evalStart = performance.now();
      const line = loop.evaluate();
      const metrics = line(epoch, trained, (performance.now() - evalStart) / 1000);
      done.push(metrics);
      await loop.afterEpoch?.(metrics, done);
      loop.report(metrics);
    }
  } finally {
    await parallel?.dispose();
  }
  return done;
}

/** The worker threads `workers` asks for, or undefined for 1; they compute with this thread's backend. */
export async function startParallel(
  model: tf.LayersModel,
  optimizer: ScheduledOptimizer,
  { count, loss, imports = [], oversubscribe }: LoopWorkers,
): Promise<ParallelTrainer | undefined> {
  // Anything but 1 goes to createParallelTrainer, which rejects counts that are not integers ≥ 1.
  if (count === 1) return undefined;
  return createParallelTrainer({
    model,
    optimizer,
    loss,
    workers: count,
    backend: tf.getBackend(),
    workerImports: imports,
    oversubscribe,
  });
}
