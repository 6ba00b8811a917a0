/**
 * One training run from a recipe to files: the library call behind `doconv train`. Node-only.
 *
 *   OUT/metrics.jsonl   one EpochMetrics line per epoch
 *   OUT/checkpoint/     model + optimizer + state after the last finished epoch (see checkpoint.ts)
 *   OUT/folded/         the trained model folded to standard layers (BatchNorm fused), TF.js format
 *   OUT/summary.json    TrainSummary: final accuracies, folded accuracy, max |Δ| of logits, config
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel, zooModelInfo } from '../models/index.js';
import type { Dataset } from '../data/dataset.js';
import { fileSystem } from '../io/fileSystemIO.js';
import { foldModel } from '../fold/foldModel.js';
import { replaceFilesAtomically } from '../io/atomicFiles.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  differingSettings,
  type ModelBuilder,
  resolveConfig,
  type RecipeOptions,
  type TrainConfig,
} from './config.js';
import type { Normalization } from '../data/batches.js';
import { loadTrainTest, normalizationFor } from './data.js';
import {
  type BackendChoice,
  checkResumeEngine,
  type EngineRecord,
  machineInfo,
  type MachineInfo,
  selectBackend,
} from './environment.js';
import { evaluateFolded, type FoldedEvaluation } from './evaluate.js';
import { runTraining } from './loop.js';
import { detectOutputKind, type OutputKind } from './losses.js';
import { appendMetrics, type EpochMetrics, writeMetrics } from './metrics.js';
import { createOptimizer, type ScheduledOptimizer } from './optimizers.js';
import { createProgress, type ProgressMode, type ProgressReporter } from './progress.js';
import { prepareRunFolder, runFolder, type RunFolder, SUMMARY_FILE } from './runFolder.js';

export { CHECKPOINT_DIR, FOLDED_DIR, SUMMARY_FILE } from './runFolder.js';

/** Options of `trainModel`: the recipe (see RecipeOptions) plus where and how to run it. */
export interface TrainOptions extends RecipeOptions {
  /** Output folder; without it nothing is written (the result still has the models and metrics). */
  out?: string;
  /**
   * Continue the run in `out` from its checkpoint. Starts fresh when `out` holds no run; refused
   * when it holds a run whose checkpoint is gone (replace that run with `overwrite`).
   */
  resume?: boolean;
  /** Replace a run already in `out` (its metrics, checkpoint, folded model and summary). */
  overwrite?: boolean;
  /**
   * Resume a checkpoint written on another engine or oneDNN thread count (refused otherwise): the
   * run then differs from an uninterrupted one.
   */
  allowEngineChange?: boolean;
  /** Fold and evaluate the folded model at the end. Default true. */
  fold?: boolean;
  /** Backend to select first; omitted keeps the current one. */
  backend?: BackendChoice;
  /** Progress display (default 'none'), or a reporter of your own. */
  progress?: ProgressMode | ProgressReporter;
  /** Abort to stop between steps; the last epoch checkpoint stays, and `resume` continues from it. */
  signal?: AbortSignal;
  /** Called after each epoch (after its checkpoint is written). */
  onEpochEnd?: (metrics: EpochMetrics) => void | Promise<void>;
  /** Where one-line notes go (backend chosen, resumed from …). Default: the progress reporter. */
  log?: (message: string) => void;
  /**
   * With `workers` > 1 and a model of custom layer classes: the modules that register them
   * (absolute file URLs or package names), imported in every worker thread. doconv's layers and
   * TF.js's own need nothing.
   */
  workerImports?: string[];
}

/** summary.json. Accuracies are fractions 0..1. */
export interface TrainSummary {
  model: string;
  conv: string;
  preset: string | null;
  dataset: string;
  seed: number;
  /** The TF.js backend's name (also `engine.backend`). */
  backend: string;
  /** What ran the ops: backend, engine and, on 'native', oneDNN's version and thread count. */
  engine: EngineRecord;
  epochs: number;
  trainImages: number;
  testImages: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  /** Accuracy of the folded model (standard layers, BatchNorm fused); null with fold: false. */
  foldedTestAccuracy: number | null;
  foldedTestLoss: number | null;
  /** max |logit(DO model) − logit(folded)| over the test set; null with fold: false. */
  maxAbsLogitDiff: number | null;
  parameters: { trained: number; folded: number | null };
  /** Mean of the epochs' training throughput. */
  imagesPerSecond: number;
  /** Sum of the epochs' training time (evaluation excluded). */
  trainSeconds: number;
  outputKind: OutputKind;
  date: string;
  machine: MachineInfo;
  config: TrainConfig;
}

/** What `trainModel` returns; the caller owns (and disposes) `model` and `folded`. */
export interface TrainResult {
  summary: TrainSummary;
  history: EpochMetrics[];
  model: tf.LayersModel;
  folded: tf.LayersModel | null;
}

/** What state.json holds. */
interface TrainState {
  config: TrainConfig;
  history: EpochMetrics[];
  backend: string;
  /** Absent in checkpoints written before it was recorded. */
  engine?: EngineRecord;
}

/** What a saved model's userDefinedMetadata.doconv holds, so `evaluateSavedModel` knows its inputs. */
export interface DoconvModelMetadata {
  model: string;
  conv: string;
  dataset: string;
  normalize: string;
  outputKind: OutputKind;
  folded: boolean;
}

/**
 * Trains, checkpoints, folds and summarises one run.
 *
 * Who disposes what: `startingPoint` hands over a model and an optimizer (disposing them itself if
 * it fails). `runEpochs` disposes the optimizer when the epochs end, however they end; any error
 * disposes the model too (and `finishRun` its folded model). On success the caller owns both models.
 */
export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const config = resolveConfig(opts);
  const progress =
    typeof opts.progress === 'object' ? opts.progress : createProgress(opts.progress ?? 'none');
  const log = opts.log ?? ((m: string) => progress.message(m));
  const folder = opts.out !== undefined ? runFolder(opts.out) : undefined;
  // Lock `out` and refuse to clobber a run before any slow work.
  const release = folder !== undefined ? await prepareRunFolder(folder, opts, log) : undefined;
  try {
    const engine = await selectBackend(opts.backend, log);
    const data = await loadRunData(config);
    const start = await startingPoint(opts, config, engine, data.train, folder, log);
    try {
      const outputKind = checkModel(start.model, opts.model, config, data.train);
      const normalize = normalizationFor(config.normalize, config.dataset);
      const run: Run = { config, data, folder, engine, outputKind, normalize };
      const history = await runEpochs(run, start, opts, progress);
      return await finishRun(run, start.model, history, opts.fold ?? true);
    } catch (e) {
      start.model.dispose();
      start.optimizer.dispose(); // a no-op once runEpochs has disposed it
      throw e;
    }
  } finally {
    await release?.();
  }
}

/** What the steps after the start share. */
interface Run {
  config: TrainConfig;
  data: { train: Dataset; test: Dataset };
  folder: RunFolder | undefined;
  /** What runs the ops, as recorded. */
  engine: EngineRecord;
  outputKind: OutputKind;
  normalize: Normalization | undefined;
}

/** The model, the optimizer and the epochs done so far: a fresh start, or a checkpoint's. */
interface Start {
  model: tf.LayersModel;
  optimizer: ScheduledOptimizer;
  history: EpochMetrics[];
}

function loadRunData(config: TrainConfig): Promise<{ train: Dataset; test: Dataset }> {
  return loadTrainTest({
    ...config,
    dataDir: config.dataDir ?? undefined,
    trainLimit: config.trainLimit ?? undefined,
    testLimit: config.testLimit ?? undefined,
  });
}

/** The checkpoint's state with `resume` and a checkpoint in `out`, else a new model and optimizer. */
async function startingPoint(
  opts: TrainOptions,
  config: TrainConfig,
  engine: EngineRecord,
  train: Dataset,
  folder: RunFolder | undefined,
  log: (message: string) => void,
): Promise<Start> {
  if (opts.resume && folder !== undefined && (await hasCheckpoint(folder.checkpoint))) {
    return resumeFrom(folder, config, engine, opts.allowEngineChange ?? false, log);
  }
  // (A folder holding a run without a checkpoint was refused by prepareRunFolder.)
  if (opts.resume) log(`nothing to resume in ${folder?.out ?? '(no out)'}: starting from epoch 1`);
  // An optimizer holds no tensors before its first step, so a failing build leaks nothing.
  const optimizer = createOptimizer(config.optimizer);
  return { model: buildFor(opts.model, config, train), optimizer, history: [] };
}

/** Loads the checkpoint and checks it continues this run; disposes it if not. */
async function resumeFrom(
  folder: RunFolder,
  config: TrainConfig,
  engine: EngineRecord,
  allowEngineChange: boolean,
  log: (message: string) => void,
): Promise<Start> {
  const ckpt = await loadCheckpoint<TrainState>(folder.checkpoint);
  const { history } = ckpt.state;
  try {
    checkResumable(ckpt.state.config, config, folder.checkpoint);
    if (history.length > config.epochs) {
      throw new Error(
        `cannot resume ${folder.checkpoint}: it is after epoch ${history.length}, beyond epochs = ${config.epochs}`,
      );
    }
    checkResumeEngine(ckpt.state.engine, engine, folder.checkpoint, allowEngineChange, log);
    // metrics.jsonl continues from the checkpoint's epochs.
    await writeMetrics(folder.metrics, history);
  } catch (e) {
    ckpt.model.dispose();
    ckpt.optimizer.dispose();
    throw e;
  }
  log(`resumed ${folder.checkpoint} after epoch ${history.length} of ${config.epochs}`);
  return { model: ckpt.model, optimizer: ckpt.optimizer, history };
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
    doconv: metadata(config, outputKind, false) as unknown as object,
  });
  return outputKind;
}

/**
 * Trains from `start` to the last epoch, writing a checkpoint and a metrics line after each; stops
 * the progress display and disposes the optimizer when the epochs end, however they end.
 */
async function runEpochs(
  run: Run,
  { model, optimizer, history }: Start,
  opts: TrainOptions,
  progress: ProgressReporter,
): Promise<EpochMetrics[]> {
  const { config, folder, engine } = run;
  try {
    return await runTraining(
      model,
      optimizer,
      run.data.train,
      run.data.test,
      {
        ...config,
        learningRate: config.optimizer.learningRate,
        normalize: run.normalize,
        outputKind: run.outputKind,
      },
      history,
      {
        progress,
        signal: opts.signal,
        workerImports: opts.workerImports,
        onEpochEnd: async (m, done) => {
          if (folder !== undefined) {
            const state: TrainState = {
              config,
              history: [...done],
              backend: engine.backend,
              engine,
            };
            await saveCheckpoint(folder.checkpoint, { model, optimizer, state });
            await appendMetrics(folder.metrics, m);
          }
          await opts.onEpochEnd?.(m);
        },
      },
    );
  } finally {
    progress.stop();
    optimizer.dispose();
  }
}

/**
 * Folds and checks the trained model (with `fold`), writes the folded model and summary.json, and
 * returns the result; disposes the folded model if anything here fails.
 */
async function finishRun(
  run: Run,
  model: tf.LayersModel,
  history: EpochMetrics[],
  fold: boolean,
): Promise<TrainResult> {
  const folded = fold ? foldModel(model, { fuseBatchNorm: true }) : null;
  try {
    const check = folded !== null ? checkFolded(run, model, folded) : null;
    if (folded !== null && run.folder !== undefined) {
      await folded.save(fileSystem(run.folder.folded));
    }
    const summary = summarise(run, model, history, folded, check);
    if (run.folder !== undefined) {
      await replaceFilesAtomically(run.folder.out, [
        { name: SUMMARY_FILE, data: JSON.stringify(summary, null, 2) + '\n' },
      ]);
    }
    return { summary, history, model, folded };
  } catch (e) {
    folded?.dispose();
    throw e;
  }
}

/** Marks `folded` as this run's folded model and compares it with the trained one on the test set. */
function checkFolded(run: Run, model: tf.LayersModel, folded: tf.LayersModel): FoldedEvaluation {
  const { config, outputKind } = run;
  folded.setUserDefinedMetadata({
    doconv: metadata(config, outputKind, true) as unknown as object,
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
    parameters: { trained: model.countParams(), folded: folded?.countParams() ?? null },
    imagesPerSecond: history.reduce((s, m) => s + m.imagesPerSecond, 0) / history.length,
    trainSeconds: history.reduce((s, m) => s + m.seconds, 0),
    outputKind: run.outputKind,
    date: new Date().toISOString(),
    machine: machineInfo(),
    config,
  };
}

function metadata(
  config: TrainConfig,
  outputKind: OutputKind,
  folded: boolean,
): DoconvModelMetadata {
  return {
    model: config.model,
    conv: config.conv,
    dataset: config.dataset,
    normalize: config.normalize,
    outputKind,
    folded,
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

function checkResumable(saved: TrainConfig, now: TrainConfig, dir: string): void {
  const differ = differingSettings(saved, now);
  if (differ.length > 0) {
    const list = differ.map(
      (d) => `${d.key}: checkpoint ${JSON.stringify(d.recorded)}, now ${JSON.stringify(d.now)}`,
    );
    throw new Error(`cannot resume ${dir}: the run's settings differ (${list.join('; ')})`);
  }
}
