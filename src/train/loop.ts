/**
 * A classifier's epoch, on a model and a dataset already in memory (no files; trainModel adds
 * those): cross-entropy steps on seeded image batches (trainSteps.ts).
 *
 * Why not model.fit: fit shuffles with an unseeded Math.random, so two runs with one seed differ.
 * Here shuffling and augmentation come from `batches(train, …, {seed: mixSeeds(seed, epoch)})`, the
 * learning rate from a pure schedule function, and every step is forward (training mode, so BatchNorm
 * updates its moving statistics) → loss → gradients → + weight decay → optimizer. Same seed, same
 * backend → the same weights, and a run resumed from an epoch checkpoint continues identically.
 *
 * With `workers` > 1 the forward/backward half of each step runs data-parallel on worker threads
 * (createParallelTrainer: one wasm instance per core); weight decay and the update stay here. The
 * run is still seeded and repeatable for a given worker count, but BatchNorm normalises each
 * worker's shard with the shard's own statistics (as PyTorch DDP without SyncBatchNorm), so a BN
 * net's numbers depend on the worker count.
 */
import type * as tf from '@tensorflow/tfjs';
import { batchCount, batches, type Normalization } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import { flipCrop } from '../data/augment.js';
import { mixSeeds } from '../data/prng.js';
import { startParallel } from './epochLoop.js';
import { correctCount, crossEntropy, type OutputKind } from './losses.js';
import type { ScheduledOptimizer } from './optimizers.js';
import type { ParallelTrainer } from './parallel/parallelTrainer.js';
import {
  type EpochBatches,
  type EpochHooks,
  type EpochResult,
  type StepKind,
  type StepSettings,
  trainSteps,
} from './trainSteps.js';

/** What the loop needs to know (a subset of TrainConfig, plus the resolved normalisation). */
export interface LoopConfig extends StepSettings {
  batchSize: number;
  evalBatchSize: number;
  seed: number;
  augment: boolean;
  normalize?: Normalization;
  outputKind: OutputKind;
  /** Worker threads for the forward/backward passes; 1 (default) computes on this thread. */
  workers?: number;
}

/**
 * The worker threads `config.workers` asks for, or undefined for 1. They compute with the backend
 * this thread uses.
 */
export async function startWorkers(
  model: tf.LayersModel,
  optimizer: ScheduledOptimizer,
  config: Pick<LoopConfig, 'workers' | 'outputKind'>,
  workerImports: string[] = [],
  oversubscribe = false,
): Promise<ParallelTrainer | undefined> {
  return startParallel(model, optimizer, {
    count: config.workers ?? 1,
    loss: { crossEntropy: config.outputKind },
    imports: workerImports,
    oversubscribe,
  });
}

/** One pass over `train` in the epoch's seeded order. */
export async function trainEpoch(
  model: tf.LayersModel,
  optimizer: ScheduledOptimizer,
  train: Dataset,
  epoch: number,
  config: LoopConfig,
  hooks: EpochHooks = {},
): Promise<EpochResult> {
  const epochBatches = classificationBatches(train, epoch, config);
  return trainSteps(model, optimizer, epoch, epochBatches, config, classifying(config), hooks);
}

/** An epoch's image batches: shuffled by the epoch's seed, normalised, augmented if asked. */
export function classificationBatches(
  train: Dataset,
  epoch: number,
  config: Pick<LoopConfig, 'batchSize' | 'seed' | 'normalize' | 'augment'>,
): EpochBatches {
  const stream = batches(train, config.batchSize, {
    shuffle: true,
    seed: mixSeeds(config.seed, epoch),
    normalize: config.normalize,
    augment: config.augment ? flipCrop() : undefined,
  });
  return { stream, steps: batchCount(train.count, config.batchSize) };
}

/** Softmax cross-entropy on the model's logits or probabilities, counting correct argmaxes. */
export function classifying({ outputKind }: Pick<LoopConfig, 'outputKind'>): StepKind {
  return {
    loss: (ys, out) => crossEntropy(ys, out, outputKind),
    correct: correctCount,
    divergenceAdvice: (n) =>
      `the step was not applied (weights, optimizer state and BatchNorm statistics are as before it). ` +
      `Check the data for NaN/Infinity or lower the learning rate (${n('lr')}). The last epoch's checkpoint is kept.`,
  };
}
