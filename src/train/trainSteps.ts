/**
 * One epoch of training steps, whatever the task: the caller gives the batches and what the steps
 * minimise (the task's StepKind, trainingTask.ts: a classifier's cross-entropy, the segmentation
 * and detection losses). Every step is forward (training mode, so BatchNorm updates its moving statistics) → loss
 * → gradients → finiteness check → + weight decay → optimizer, on this thread or with the
 * forward/backward half on worker threads.
 */
import * as tf from '@tensorflow/tfjs';
// The wasm backend needs doconv's gradient kernels to train; registering is idempotent.
import '../engine/register.js';
import '../layers/addRelu.js';
import '../layers/batchNormTraining.js';
import '../layers/reluSix.js';
import { checkStepMemory, isOutOfMemory, stepMemoryError } from '../engine/stepMemory.js';
import type { ScheduledOptimizer } from './optimizers.js';
import type { ParallelTrainer } from './parallel/parallelTrainer.js';
import { silentProgress, type ProgressReporter } from './progress.js';
import { learningRateAt, type LrSchedule, type ScheduleUnit } from './schedules.js';
import { addWeightDecay, decayMask } from './weightDecay.js';
import { describeNonFinite, finiteProbe, NonFiniteError } from './nonFinite.js';
import { type OptionNamer, OptionError } from '../util/optionError.js';

/** What a kind of training brings to the steps: its loss, what it counts, what it advises. */
export interface StepKind {
  /** The batch's mean loss, from its targets and the model's training-mode output. */
  loss(ys: tf.Tensor, out: tf.Tensor): tf.Scalar;
  /** Examples predicted right (the running accuracy the progress shows); without it that shows 0. */
  correct?(ys: tf.Tensor, out: tf.Tensor): tf.Scalar;
  /**
   * The divergence error's end, after "… (learning rate …); ": what was kept and what to try, with
   * options spelled by `name` (the error is an OptionError on lr).
   */
  divergenceAdvice(name: OptionNamer): string;
}

/** The settings an epoch's steps read. */
export interface StepSettings {
  epochs: number;
  /** The base learning rate the schedule scales. */
  learningRate: number;
  schedule: LrSchedule;
  scheduleUnit: ScheduleUnit;
  weightDecay: number;
  decayD: boolean;
}

/** The epoch's batches, in its seeded order; the steps dispose their tensors. */
export interface EpochBatches {
  stream: Iterable<{ xs: tf.Tensor; ys: tf.Tensor; size: number }>;
  /** How many the stream yields. */
  steps: number;
}

/** What else an epoch may take. */
export interface EpochHooks {
  progress?: ProgressReporter;
  /** Checked before every step. */
  signal?: AbortSignal;
  /** Worker threads holding `model` (startWorkers, startParallel); omitted: this thread computes. */
  parallel?: ParallelTrainer;
}

/** One epoch's training numbers. */
export interface EpochResult {
  loss: number;
  /** 0 for a kind that counts nothing. */
  accuracy: number;
  seconds: number;
  imagesPerSecond: number;
  /** The first step's learning rate. */
  lr: number;
}

/** Trains `model` on one epoch's batches (`epoch` is 0-based). */
export async function trainSteps(
  model: tf.LayersModel,
  optimizer: ScheduledOptimizer,
  epoch: number,
  { stream, steps }: EpochBatches,
  settings: StepSettings,
  kind: StepKind,
  { progress = silentProgress, signal, parallel }: EpochHooks = {},
): Promise<EpochResult> {
  const ctx: StepContext = {
    optimizer,
    variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    mask: decayMask(model, { decayD: settings.decayD }),
    weightDecay: settings.weightDecay,
    kind,
  };
  const lrAt = (step: number) =>
    learningRateAt(settings.schedule, settings.learningRate, settings.scheduleUnit, {
      epoch,
      step,
      stepsPerEpoch: steps,
      epochs: settings.epochs,
    });
  progress.startEpoch(epoch + 1, settings.epochs, steps);
  const start = performance.now();
  let lossSum = 0;
  let correct = 0;
  let images = 0;
  let step = 0;
  for (const { xs, ys, size } of stream) {
    try {
      signal?.throwIfAborted();
      optimizer.learningRate = lrAt(step);
      // A step that cannot fit the backend's memory is refused before it runs (engine/stepMemory.ts).
      const workers = parallel?.workers ?? 1;
      if (step === 0) checkStepMemory(model, size, { workers });
      let loss: number;
      let right: number;
      try {
        [loss, right] =
          parallel === undefined
            ? trainStep(model, ctx, xs, ys)
            : await parallelStep(parallel, ctx, xs, ys);
      } catch (e) {
        // …and one that fails allocating anyway says so, not "Aborted()" or "out of bounds".
        if (isOutOfMemory(e)) {
          throw stepMemoryError(model, size, { workers, cause: (e as Error).message });
        }
        if (!(e instanceof NonFiniteError)) throw e;
        // Stop rather than train on: every later step would be NaN too (TerminateOnNaN, built in).
        const lr = optimizer.learningRate;
        throw new OptionError(
          'lr',
          (n) =>
            `training diverged: ${e.what} at epoch ${epoch + 1}, step ${step + 1} (learning rate ${lr}); ` +
            kind.divergenceAdvice(n),
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
  weightDecay: number;
  kind: StepKind;
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
  const { variables, kind } = ctx;
  let right: tf.Scalar | undefined;
  // Clones share the data (no copy); they keep the pre-step statistics alive for a restore.
  const statistics = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  const before = statistics.map((v) => tf.clone(v));
  try {
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply(xs, { training: true }) as tf.Tensor;
        if (kind.correct) right = tf.keep(kind.correct(ys, out));
        // Layers' own regularisers (a custom model's kernelRegularizer), as trainOnBatch adds them
        // and the parallel workers do; the zoo has none (weight decay is settings.weightDecay).
        let loss = kind.loss(ys, out);
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
      return [loss, right !== undefined ? right.dataSync()[0] : 0];
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
  return [loss, ctx.kind.correct ? (correct ?? 0) : 0];
}

/** + weight decay → optimizer step (call inside tidy). */
function update(
  { optimizer, variables, mask, weightDecay }: StepContext,
  grads: tf.Tensor[],
): void {
  const decayed = addWeightDecay(grads, variables, mask, weightDecay);
  optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: decayed[i] })));
}
