/**
 * A task is a value: what one kind of training (classification, segmentation, detection) brings to
 * the one trainer (trainModel), the one comparison (compareConvs) and the saved-model verbs. The
 * trainer owns the run — folder, lock, resume, checkpoints, epochs, fold, summary.json — and asks the
 * task for what differs: its recipe (defaults, and which options it takes), its data, a model for
 * it and the checks that a model fits, the loss its steps minimise, how it scores a model, its
 * metrics line and summary, and what a comparison records. A new task is one more value of this
 * type (see classificationTask.ts, sceneTasks.ts), listed in trainModel.ts's table.
 *
 * C is the task's recorded recipe, M one line of its metrics.jsonl, S its summary.json.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ConvKind, ZooTask } from '../models/index.js';
import type { EpochBatches, EpochResult, StepKind } from './trainSteps.js';
import type { LossSpec } from './parallel/protocol.js';
import type { ProgressReporter } from './progress.js';
import type { RunSummary } from './trainingRun.js';
import type { EngineRecord } from './environment.js';
import type { TrainingRecipe } from './trainingRecipe.js';
import type { Side } from './comparisonPool.js';
import type { PlotOptions } from './plot.js';

/** What every task's recorded recipe holds. */
export interface RunRecipe extends TrainingRecipe {
  model: string;
  conv: ConvKind;
  seed: number;
  workers: number;
}

/** What every metrics line holds. */
export interface EpochLine {
  /** 1-based. */
  epoch: number;
  trainLoss: number;
  imagesPerSecond: number;
  seconds: number;
  evalSeconds: number;
  lr: number;
}

/**
 * One kind of training. `O` is what its callers give (the trainer's options), `C` the complete
 * recipe it records, `M` a metrics line, `S` a summary.
 */
export interface TrainingTask<O, C extends RunRecipe, M extends EpochLine, S> {
  readonly name: ZooTask;
  /** The complete, checked recipe; errors name the option (OptionError) and the value. */
  resolve(opts: O): C;
  /** The recorded settings a resumed run must share, as "key: checkpoint X, now Y". */
  resumeDifferences(saved: C, now: C): string[];
  /** The settings a finished run's summary must share to be reused by a comparison. */
  reuseDifferences(recorded: C, want: C): string[];
  /**
   * Loads (or takes the caller's) data and returns the run's task half, bound to it. `log` takes
   * one-line notes (files skipped while reading).
   */
  prepare(config: C, opts: O, log: (message: string) => void): Promise<TaskRun<M, S>>;
  /** What a Conv vs DO-Conv comparison of this task records (compare.ts). */
  readonly comparison: TaskComparison<C, M, S>;
}

/** What a comparison of one task records, besides its head (what ran where) and its files. */
export interface TaskComparison<C, M, S> {
  /** Seeds 1..N by default. */
  defaultRuns: number;
  /** The base name of its files by default. */
  defaultName(shared: C): string;
  /**
   * The record's fields after its head, from every run (seed order, conv before doconv) and the
   * recipe they share; the per-epoch curve of each run; the table; the plot's labels.
   */
  summarise(
    runs: ReadonlyArray<{ conv: Side; summary: S; history: M[] }>,
    shared: C,
    seeds: number[],
    name: string,
  ): {
    fields: object;
    curves: Record<Side, number[][]>;
    table: string;
    plot: PlotOptions;
  };
}

/** A task's half of one run, bound to its recipe and data. */
export interface TaskRun<M extends EpochLine, S> {
  /** A fresh model for the data (the caller disposes it). */
  buildModel(): tf.LayersModel;
  /**
   * Checks `model` (fresh or from a checkpoint) fits the data, records in its metadata what it was
   * trained on, and returns how its epochs run.
   */
  adopt(model: tf.LayersModel): TaskEpochs<M, S>;
}

/** How the epochs of one run train, score and report; and how the run is summarised. */
export interface TaskEpochs<M extends EpochLine, S> {
  /** The loss the steps minimise (and what they count). */
  step: StepKind;
  /** The same loss, for worker threads. */
  workerLoss: LossSpec;
  /** Modules registering custom layer classes, imported in each worker thread. */
  workerImports?: string[];
  /** One epoch's batches in its seeded order (`epoch` is 0-based). */
  batches(epoch: number): EpochBatches;
  /**
   * Scores the model on the test data after an epoch; returns the maker of the epoch's metrics line
   * (the trainer times the scoring and gives the seconds).
   */
  evaluate(): (epoch: number, trained: EpochResult, evalSeconds: number) => M;
  /** Shows a finished epoch. */
  report(progress: ProgressReporter, metrics: M): void;
  /**
   * Scores `folded` against the trained model (marking it as this run's folded model) and makes
   * summary.json from `facts`.
   */
  summarise(folded: tf.LayersModel | null, facts: RunFacts<M>): S;
}

/** What the trainer knows of a finished run, for its task's summary. */
export interface RunFacts<M> {
  model: tf.LayersModel;
  history: M[];
  engine: EngineRecord;
  /** The fields every summary computes alike (runTotals and dateAndMachine). */
  totals: Pick<RunSummary<unknown>, 'parameters' | 'imagesPerSecond' | 'trainSeconds'>;
  date: string;
  machine: RunSummary<unknown>['machine'];
}
