/**
 * One training run from a recipe to files: the library call behind `doconv train`. Node-only.
 *
 *   OUT/metrics.jsonl   one EpochMetrics line per epoch
 *   OUT/checkpoint/     model + optimizer + state after the last finished epoch (see checkpoint.ts)
 *   OUT/folded/         the trained model folded to standard layers (BatchNorm fused), TF.js format
 *   OUT/summary.json    TrainSummary: final accuracies, folded accuracy, max |Δ| of logits, config
 *   OUT/curves.svg      losses and accuracies per epoch (trainingCurves.ts)
 */
import type * as tf from '@tensorflow/tfjs';
import { buildModel, zooModelInfo } from '../models/index.js';
import type { Dataset } from '../data/dataset.js';
import {
  differingSettings,
  type ModelBuilder,
  resolveConfig,
  type RecipeOptions,
  type TrainConfig,
} from './config.js';
import type { Normalization } from '../data/batches.js';
import { loadTrainTest, normalizationFor } from './data.js';
import { imageFolderReport, type ImageFolderReport } from './imageFolderReport.js';
import { selectBackend } from './environment.js';
import { evaluateFolded, type FoldedEvaluation } from './evaluate.js';
import { runTraining } from './loop.js';
import { detectOutputKind, type OutputKind } from './losses.js';
import type { EpochMetrics } from './metrics.js';
import { createOptimizer } from './optimizers.js';
import type { ProgressReporter } from './progress.js';
import {
  dateAndMachine,
  disposingOnFailure,
  foldAndSummarise,
  inRunFolder,
  resumeRun,
  runCheckpointedEpochs,
  type RunContext,
  type RunOptions,
  type RunResult,
  type RunSummary,
  runTotals,
  type Start,
} from './trainingRun.js';

export { CHECKPOINT_DIR, FOLDED_DIR, SUMMARY_FILE } from './runFolder.js';

/** Options of `trainModel`: the recipe (see RecipeOptions) plus where and how to run it. */
export interface TrainOptions extends RecipeOptions, RunOptions<EpochMetrics> {
  /**
   * With `workers` > 1 and a model of custom layer classes: the modules that register them
   * (absolute file URLs or package names), imported in every worker thread. doconv's layers and
   * TF.js's own need nothing.
   */
  workerImports?: string[];
}

/** summary.json. Accuracies are fractions 0..1. */
export interface TrainSummary extends RunSummary<TrainConfig> {
  preset: string | null;
  dataset: string;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  /** Accuracy of the folded model (standard layers, BatchNorm fused); null with fold: false. */
  foldedTestAccuracy: number | null;
  foldedTestLoss: number | null;
  /** max |logit(DO model) − logit(folded)| over the test set; null with fold: false. */
  maxAbsLogitDiff: number | null;
  outputKind: OutputKind;
  /** The class of each label, when the data set names them. */
  classNames?: string[];
  /** Dataset 'folder': what was read, and every file skipped with its reason. */
  imageFolder?: ImageFolderReport;
}

/** What `trainModel` returns; the caller owns (and disposes) `model` and `folded`. */
export type TrainResult = RunResult<TrainSummary, EpochMetrics>;

/** What a saved model's userDefinedMetadata.doconv holds, so `evaluateSavedModel` knows its inputs. */
export interface DoconvModelMetadata {
  model: string;
  conv: string;
  dataset: string;
  normalize: string;
  outputKind: OutputKind;
  folded: boolean;
  /** The class of each output, index = label, when the data set names them (an image folder's folders). */
  classNames?: string[];
  /**
   * The per-channel mean/std the inputs were normalised with after /255 (null: pixels/255 only).
   * Absent in models saved before it was recorded.
   */
  normalization?: Normalization | null;
}

/**
 * Trains, checkpoints, folds and summarises one run.
 *
 * Who disposes what: `startingPoint` hands over a model and an optimizer (disposing them itself if
 * it fails). The optimizer is disposed when the epochs end, however they end; any error disposes
 * the model too (and the finish its folded model). On success the caller owns both models.
 */
export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const config = resolveConfig(opts);
  return inRunFolder(opts, async (folder, { progress, log }) => {
    const engine = await selectBackend(opts.backend, log);
    const data = await loadRunData(config, log);
    const start = await startingPoint(opts, { config, folder, engine }, data.train, log);
    return disposingOnFailure(start, async () => {
      const normalize = normalizationFor(config.normalize, config.dataset, data.train);
      const outputKind = checkModel(start.model, opts.model, config, data.train, normalize);
      const run: Run = { config, data, folder, engine, outputKind, normalize };
      const history = await runEpochs(run, start, opts, progress);
      return await finishRun(run, start.model, history, opts.fold ?? true);
    });
  });
}

/** What the steps after the start share. */
interface Run extends RunContext<TrainConfig> {
  data: { train: Dataset; test: Dataset };
  outputKind: OutputKind;
  normalize: Normalization | undefined;
}

function loadRunData(
  config: TrainConfig,
  log: (message: string) => void,
): Promise<{ train: Dataset; test: Dataset }> {
  return loadTrainTest({
    ...config,
    onWarning: log,
    dataDir: config.dataDir ?? undefined,
    trainLimit: config.trainLimit ?? undefined,
    testLimit: config.testLimit ?? undefined,
  });
}

/** The checkpoint's state with `resume` and a checkpoint in `out`, else a new model and optimizer. */
async function startingPoint(
  opts: TrainOptions,
  run: RunContext<TrainConfig>,
  train: Dataset,
  log: (message: string) => void,
): Promise<Start<EpochMetrics>> {
  const { config, folder } = run;
  const differences = (saved: TrainConfig) => resumeDifferences(saved, config);
  const resumed = await resumeRun<TrainConfig, EpochMetrics>(run, opts, differences, log);
  if (resumed !== null) return resumed;
  // (A folder holding a run without a checkpoint was refused by prepareRunFolder.)
  if (opts.resume) log(`nothing to resume in ${folder?.out ?? '(no out)'}: starting from epoch 1`);
  // An optimizer holds no tensors before its first step, so a failing build leaks nothing.
  const optimizer = createOptimizer(config.optimizer);
  return { model: buildFor(opts.model, config, train), optimizer, history: [] };
}

/**
 * Checks the model fits the data (and a zoo model's declared output), records what it was trained
 * on in its metadata, and returns its output kind.
 */
function checkModel(
  model: tf.LayersModel,
  given: TrainOptions['model'],
  config: TrainConfig,
  train: Dataset,
  normalize: Normalization | undefined,
): OutputKind {
  checkInputShape(model, train);
  const outputKind = detectOutputKind(model);
  if (typeof given === 'string' || given === undefined) {
    const declared = zooModelInfo(config.model).output;
    if ((declared === 'softmax') !== (outputKind === 'probabilities')) {
      throw new Error(
        `model ${config.model}: the zoo says its output is ${declared}, its last layer says ${outputKind}`,
      );
    }
  }
  model.setUserDefinedMetadata({
    doconv: metadata(config, outputKind, false, train, normalize) as unknown as object,
  });
  return outputKind;
}

/** Trains from `start` to the last epoch, writing a checkpoint and a metrics line after each. */
function runEpochs(
  run: Run,
  start: Start<EpochMetrics>,
  opts: TrainOptions,
  progress: ProgressReporter,
): Promise<EpochMetrics[]> {
  const { config } = run;
  const loopConfig = {
    ...config,
    learningRate: config.optimizer.learningRate,
    normalize: run.normalize,
    outputKind: run.outputKind,
  };
  return runCheckpointedEpochs(run, start, progress, opts.onEpochEnd, (onEpochEnd) =>
    runTraining(
      start.model,
      start.optimizer,
      run.data.train,
      run.data.test,
      loopConfig,
      start.history,
      {
        progress,
        signal: opts.signal,
        workerImports: opts.workerImports,
        onEpochEnd,
      },
    ),
  );
}

/**
 * Folds and checks the trained model (with `fold`), writes the folded model and summary.json, and
 * returns the result.
 */
function finishRun(
  run: Run,
  model: tf.LayersModel,
  history: EpochMetrics[],
  fold: boolean,
): Promise<TrainResult> {
  return foldAndSummarise(
    model,
    history,
    run.folder,
    fold,
    (folded) => (folded !== null ? checkFolded(run, model, folded) : null),
    (check, folded) => summarise(run, model, history, folded, check),
  );
}

/** Marks `folded` as this run's folded model and compares it with the trained one on the test set. */
function checkFolded(run: Run, model: tf.LayersModel, folded: tf.LayersModel): FoldedEvaluation {
  const { config, outputKind } = run;
  folded.setUserDefinedMetadata({
    doconv: metadata(config, outputKind, true, run.data.train, run.normalize) as unknown as object,
  });
  return evaluateFolded(model, folded, run.data.test, {
    batchSize: config.evalBatchSize,
    normalize: run.normalize,
    outputKind,
  });
}

function summarise(
  run: Run,
  model: tf.LayersModel,
  history: EpochMetrics[],
  folded: tf.LayersModel | null,
  check: FoldedEvaluation | null,
): TrainSummary {
  const { config } = run;
  const last = history[history.length - 1];
  return {
    model: config.model,
    conv: config.conv,
    preset: config.preset,
    dataset: config.dataset,
    seed: config.seed,
    backend: run.engine.backend,
    engine: run.engine,
    epochs: history.length,
    trainImages: run.data.train.count,
    testImages: run.data.test.count,
    trainLoss: last.trainLoss,
    trainAccuracy: last.trainAccuracy,
    testLoss: last.testLoss,
    testAccuracy: last.testAccuracy,
    foldedTestAccuracy: check?.accuracy ?? null,
    foldedTestLoss: check?.loss ?? null,
    maxAbsLogitDiff: check?.maxAbsLogitDiff ?? null,
    ...runTotals(model, folded, history),
    outputKind: run.outputKind,
    ...(run.data.train.classNames !== undefined
      ? { classNames: [...run.data.train.classNames] }
      : {}),
    ...(config.dataset === 'folder' ? { imageFolder: imageFolderReport(run.data) } : {}),
    ...dateAndMachine(),
    config,
  };
}

function metadata(
  config: TrainConfig,
  outputKind: OutputKind,
  folded: boolean,
  train: Dataset,
  normalization: Normalization | undefined,
): DoconvModelMetadata {
  return {
    model: config.model,
    conv: config.conv,
    dataset: config.dataset,
    normalize: config.normalize,
    outputKind,
    folded,
    ...(train.classNames !== undefined ? { classNames: [...train.classNames] } : {}),
    normalization: normalization ?? null,
  };
}

function buildFor(
  model: string | ModelBuilder | undefined,
  config: TrainConfig,
  train: Dataset,
): tf.LayersModel {
  const opts = {
    conv: config.conv,
    inputShape: [train.height, train.width, train.channels] as [number, number, number],
    numClasses: train.numClasses,
    seed: config.seed,
  };
  return typeof model === 'function' ? model(opts) : buildModel(config.model, opts);
}

function checkInputShape(model: tf.LayersModel, ds: Dataset): void {
  const [, h, w, c] = model.inputs[0].shape;
  if (h !== ds.height || w !== ds.width || c !== ds.channels) {
    throw new Error(
      `model ${model.name} takes inputs of shape ${JSON.stringify([h, w, c])}, but ${ds.name} images are ${JSON.stringify([ds.height, ds.width, ds.channels])}`,
    );
  }
}

/** The resume keys a checkpoint's config differs in, as "key: checkpoint X, now Y". */
function resumeDifferences(saved: TrainConfig, now: TrainConfig): string[] {
  return differingSettings(saved, now).map(
    (d) => `${d.key}: checkpoint ${JSON.stringify(d.recorded)}, now ${JSON.stringify(d.now)}`,
  );
}
