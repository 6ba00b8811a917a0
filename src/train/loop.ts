/**
 * The training loop, on a model and datasets already in memory (no files; trainModel adds those).
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
import * as tf from '@tensorflow/tfjs';
// The wasm backend needs doconv's gradient kernels to train; registering is idempotent.
import '../engine/register.js';
import { batchCount, batches, type Normalization } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import { flipCrop } from '../data/augment.js';
import { mixSeeds } from '../data/prng.js';
import { evaluate } from './evaluate.js';
import { correctCount, crossEntropy, type OutputKind } from './losses.js';
import type { EpochMetrics } from './metrics.js';
import type { ScheduledOptimizer } from './optimizers.js';
import { silentProgress, type ProgressReporter } from './progress.js';
import { learningRateAt, type LrSchedule, type ScheduleUnit } from './schedules.js';
import { addWeightDecay, decayMask } from './weightDecay.js';
import { createParallelTrainer, type ParallelTrainer } from './parallel/parallelTrainer.js';
import { describeNonFinite, finiteProbe, NonFiniteError } from './nonFinite.js';

/** What the loop needs to know (a subset of TrainConfig, plus the resolved normalisation). */
export interface LoopConfig {
  epochs: number;
  batchSize: number;
  evalBatchSize: number;
  seed: number;
  /** The base learning rate the schedule scales. */
  learningRate: number;
  schedule: LrSchedule;
  scheduleUnit: ScheduleUnit;
  weightDecay: number;
  decayD: boolean;
  augment: boolean;
  normalize?: Normalization;
  outputKind: OutputKind;
  /** Worker threads for the forward/backward passes; 1 (default) computes on this thread. */
  workers?: number;
}

/** Callbacks of `runTraining`. */
export interface LoopHooks {
  progress?: ProgressReporter;
  /** After each epoch's evaluation, with the history so far (checkpointing happens here). */
  onEpochEnd?: (metrics: EpochMetrics, history: readonly EpochMetrics[]) => void | Promise<void>;
  /** Checked before every step: aborting stops at once (the epoch in progress is lost). */
  signal?: AbortSignal;
  /** With workers: modules registering custom layer classes, imported in each worker thread. */
  workerImports?: string[];
}

/** Trains `model` from epoch `history.length` to `config.epochs`; returns the full history. */
export async function runTraining(
  model: tf.LayersModel,
  optimizer: ScheduledOptimizer,
  train: Dataset,
  test: Dataset,
  config: LoopConfig,
  history: readonly EpochMetrics[] = [],
  hooks: LoopHooks = {},
): Promise<EpochMetrics[]> {
  const progress = hooks.progress ?? silentProgress;
  const done = [...history];
  const parallel = await startWorkers(model, optimizer, config, hooks.workerImports);
  try {
    for (let epoch = done.length; epoch < config.epochs; epoch++) {
      const t = await trainEpoch(model, optimizer, train, epoch, config, {
        progress,
        signal: hooks.signal,
        parallel,
      });
      const evalStart = performance.now();
      const ev = evaluate(model, test, {
        batchSize: config.evalBatchSize,
        normalize: config.normalize,
        outputKind: config.outputKind,
      });
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        trainLoss: t.loss,
        trainAccuracy: t.accuracy,
        testLoss: ev.loss,
        testAccuracy: ev.accuracy,
        imagesPerSecond: t.imagesPerSecond,
        seconds: t.seconds,
        evalSeconds: (performance.now() - evalStart) / 1000,
        lr: t.lr,
      };
      done.push(metrics);
      await hooks.onEpochEnd?.(metrics, done);
      progress.endEpoch(metrics, config.epochs);
    }
  } finally {
    await parallel?.dispose();
  }
  return done;
}

/** One epoch's training numbers. */
export interface EpochResult {
  loss: number;
  accuracy: number;
  seconds: number;
  imagesPerSecond: number;
  /** The first step's learning rate. */
  lr: number;
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
): Promise<ParallelTrainer | undefined> {
  const workers = config.workers ?? 1;
  // Anything but 1 goes to createParallelTrainer, which rejects counts that are not integers ≥ 1.
  if (workers === 1) return undefined;
  return createParallelTrainer({
    model,
    optimizer,
    loss: { crossEntropy: config.outputKind },
    workers,
    backend: tf.getBackend(),
    workerImports,
  });
}

/** What else `trainEpoch` may take. */
export interface EpochHooks {
  progress?: ProgressReporter;
  /** Checked before every step. */
  signal?: AbortSignal;
  /** Worker threads from `startWorkers` (they must hold `model`); omitted: this thread computes. */
  parallel?: ParallelTrainer;
}

/** One pass over `train` in the epoch's seeded order. */
export async function trainEpoch(
  model: tf.LayersModel,
  optimizer: ScheduledOptimizer,
  train: Dataset,
  epoch: number,
  config: LoopConfig,
  { progress = silentProgress, signal, parallel }: EpochHooks = {},
): Promise<EpochResult> {
  const ctx: StepContext = {
    optimizer,
    variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    mask: decayMask(model, { decayD: config.decayD }),
    config,
  };
  const steps = batchCount(train.count, config.batchSize);
  const lrAt = (step: number) =>
    learningRateAt(config.schedule, config.learningRate, config.scheduleUnit, {
      epoch,
      step,
      stepsPerEpoch: steps,
      epochs: config.epochs,
    });
  const stream = batches(train, config.batchSize, {
    shuffle: true,
    seed: mixSeeds(config.seed, epoch),
    normalize: config.normalize,
    augment: config.augment ? flipCrop() : undefined,
  });
  progress.startEpoch(epoch + 1, config.epochs, steps);
  const start = performance.now();
  let lossSum = 0;
  let correct = 0;
  let images = 0;
  let step = 0;
  for (const { xs, ys, size } of stream) {
    try {
      signal?.throwIfAborted();
      optimizer.learningRate = lrAt(step);
      let loss: number;
      let right: number;
      try {
        [loss, right] =
          parallel === undefined
            ? trainStep(model, ctx, xs, ys)
            : await parallelStep(parallel, ctx, xs, ys);
      } catch (e) {
        if (!(e instanceof NonFiniteError)) throw e;
        // Stop rather than train on: every later step would be NaN too (TerminateOnNaN, built in).
        throw new Error(
          `training diverged: ${e.what} at epoch ${epoch + 1}, step ${step + 1} (learning rate ${optimizer.learningRate}); ` +
            `the step was not applied (weights, optimizer state and BatchNorm statistics are as before it). ` +
            `Check the data for NaN/Infinity or lower the learning rate (--lr). The last epoch's checkpoint is kept.`,
        );
      }
      lossSum += loss * size;
      correct += right;
      images += size;
    } finally {
      tf.dispose([xs, ys]);
    }
    step++;
    const seconds = (performance.now() - start) / 1000;
    progress.step({
      step,
      steps,
      images,
      loss: lossSum / images,
      accuracy: correct / images,
      imagesPerSecond: images / seconds,
    });
    // Let timers (the progress bar) and signal handlers (Ctrl-C → abort) run between steps.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    loss: lossSum / images,
    accuracy: correct / images,
    seconds,
    imagesPerSecond: images / seconds,
    lr: lrAt(0),
  };
}

/** What every step of an epoch shares. */
interface StepContext {
  optimizer: ScheduledOptimizer;
  /** model.trainableWeights' variables, in that order */
  variables: tf.Variable[];
  /** which of them decay */
  mask: boolean[];
  config: LoopConfig;
}

/**
 * forward → loss → gradients → finiteness check → weight decay → update; returns [mean loss, correct
 * count]. A non-finite loss or gradient throws NonFiniteError before the update, with the BatchNorm
 * statistics (changed by the training-mode forward pass) put back.
 */
function trainStep(
  model: tf.LayersModel,
  ctx: StepContext,
  xs: tf.Tensor,
  ys: tf.Tensor,
): [number, number] {
  const { variables, config } = ctx;
  let right: tf.Scalar | undefined;
  // Clones share the data (no copy); they keep the pre-step statistics alive for a restore.
  const statistics = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  const before = statistics.map((v) => tf.clone(v));
  try {
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply(xs, { training: true }) as tf.Tensor;
        right = tf.keep(correctCount(ys, out));
        // Layers' own regularisers (a custom model's kernelRegularizer), as trainOnBatch adds them
        // and the parallel workers do; the zoo has none (weight decay is config.weightDecay).
        let loss = crossEntropy(ys, out, config.outputKind);
        for (const penalty of model.calculateLosses()) loss = tf.add(loss, penalty);
        return loss;
      }, variables);
      const gradList = variables.map((v) => grads[v.name]);
      const [loss, probe] = tf.stack([value, finiteProbe(value, gradList)]).dataSync();
      if (!Number.isFinite(probe)) {
        statistics.forEach((v, i) => v.assign(before[i]));
        const named = variables.map((v, i) => ({ name: v.name, values: gradList[i].dataSync() }));
        throw new NonFiniteError(describeNonFinite(loss, named));
      }
      update(ctx, gradList);
      return [loss, right!.dataSync()[0]];
    });
  } finally {
    right?.dispose();
    tf.dispose(before);
  }
}

/** trainStep with the forward/backward half on the worker threads. */
async function parallelStep(
  parallel: ParallelTrainer,
  ctx: StepContext,
  xs: tf.Tensor,
  ys: tf.Tensor,
): Promise<[number, number]> {
  const { grads, loss, correct } = await parallel.gradients(xs, ys);
  try {
    tf.tidy(() => update(ctx, grads));
  } finally {
    tf.dispose(grads);
  }
  return [loss, correct ?? 0];
}

/** + weight decay → optimizer step (call inside tidy). */
function update({ optimizer, variables, mask, config }: StepContext, grads: tf.Tensor[]): void {
  const decayed = addWeightDecay(grads, variables, mask, config.weightDecay);
  optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: decayed[i] })));
}
