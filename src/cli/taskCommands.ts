/**
 * `doconv train|compare|eval` for the segmentation and detection nets: the zoo says a model's task,
 * and these route such a model to trainTaskModel / compareTaskConvs / evaluateSavedTaskModel with
 * the shared recipe flags mapped onto the task recipe.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { zooModelTask, type ZooTask } from '../models/index.js';
import { isModelPath } from './modelPath.js';
import type { RecipeOptions } from '../train/index.js';
import { recipeFromFlags, type RecipeFlags } from './options.js';
import { percent } from './print.js';
import type { TaskEvaluation } from '../train/taskEvaluate.js';
import type { TaskRecipeOptions } from '../train/taskConfig.js';

/** The tasks `--task` accepts. */
export const TASK_CHOICES = ['classification', 'segmentation', 'detection'] as const;

/** The default zoo model of each dense task (`--task` without `--model`). */
const DEFAULT_TASK_MODEL = { segmentation: 'deeplab-mini', detection: 'centernet-mini' } as const;

/**
 * The task of a run from --task and --model: the model's own, checked against --task; with --task
 * alone, that task's default model. Returns null for classification (the classifier trainer).
 */
export function resolveTask(flags: {
  task?: ZooTask;
  model?: string;
  preset?: string;
  dataset?: string;
}): {
  task: 'segmentation' | 'detection';
  model: string;
} | null {
  if (isModelPath(flags.model)) {
    if (flags.task !== undefined && flags.task !== 'classification') {
      throw new InvalidArgumentError(
        `--model ${flags.model} (a model file) trains a classifier; --task ${flags.task} takes a zoo model`,
      );
    }
    return null;
  }
  if (flags.model === undefined) {
    if (
      flags.dataset === 'mnist-scenes' &&
      flags.task === undefined &&
      flags.preset === undefined
    ) {
      throw new InvalidArgumentError(
        '--dataset mnist-scenes needs a segmentation or detection model: --task segmentation|detection, or --model deeplab-mini|centernet-mini',
      );
    }
    if (flags.task === undefined || flags.task === 'classification') return null;
    return { task: flags.task, model: DEFAULT_TASK_MODEL[flags.task] };
  }
  const own = zooModelTask(flags.model);
  if (flags.task !== undefined && flags.task !== own) {
    throw new InvalidArgumentError(
      `--task ${flags.task} does not match --model ${flags.model}, a ${own} model`,
    );
  }
  if (own === 'classification') return null;
  if (flags.preset !== undefined) {
    throw new InvalidArgumentError(
      `--preset ${flags.preset} is a classification recipe; ${flags.model} is a ${own} model`,
    );
  }
  return { task: own, model: flags.model };
}

/**
 * The recipe a command's flags ask for: a segmentation or detection recipe (`dense`) when --task or
 * --model names a dense task, else the classification one. A flag that does not fit ends the
 * command with commander's error (exit 1).
 */
export function recipeOrTask(
  cmd: Command,
  flags: RecipeFlags & { task?: ZooTask },
): { dense: TaskRecipeOptions; recipe: null } | { dense: null; recipe: RecipeOptions } {
  try {
    const task = resolveTask(flags);
    return task
      ? { dense: taskRecipeFromFlags(flags, task.model), recipe: null }
      : { dense: null, recipe: recipeFromFlags(flags) };
  } catch (e) {
    if (e instanceof InvalidArgumentError) cmd.error(`error: ${e.message}`);
    throw e;
  }
}

/** The task recipe from the shared flags; flags that mean nothing for a dense task are refused. */
export function taskRecipeFromFlags(f: RecipeFlags, model: string): TaskRecipeOptions {
  const unsupported = (
    [
      ['--dataset', f.dataset === 'mnist-scenes' ? undefined : f.dataset],
      ['--data-dir', f.dataDir],
      ['--image-size', f.imageSize],
      ['--channels', f.channels],
      ['--holdout', f.holdout],
      ['--augment', f.augment],
      ['--normalize', f.normalize],
      ['--beta1', f.beta1],
      ['--beta2', f.beta2],
      ['--epsilon', f.epsilon],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (unsupported.length > 0) {
    throw new InvalidArgumentError(
      `${unsupported.map(([k]) => k).join(', ')}: not used by ${model} (it trains on mnist-scenes; --train-limit/--test-limit set the scene counts)`,
    );
  }
  const schedule =
    f.schedule === undefined
      ? undefined
      : f.schedule === 'cosine'
        ? { kind: 'cosine' as const, minLr: f.minLr }
        : f.schedule === 'constant'
          ? { kind: 'constant' as const }
          : { kind: 'step' as const, milestones: f.milestones, every: f.stepEvery, gamma: f.gamma };
  return {
    model,
    trainCount: f.trainLimit,
    testCount: f.testLimit,
    epochs: f.epochs,
    batchSize: f.batchSize,
    evalBatchSize: f.evalBatchSize,
    optimizer: f.optimizer,
    lr: f.lr,
    momentum: f.momentum,
    schedule,
    scheduleUnit: f.scheduleUnit,
    weightDecay: f.weightDecay,
    decayD: f.decayD,
    workers: f.workers,
  };
}

/** "mIoU 71.23 %, pixel accuracy 97.10 %" / "AP@[.5:.95] 41.20 %, AP@0.5 80.10 %". */
export function formatTaskScores(e: TaskEvaluation): string {
  return e.segmentation
    ? `mIoU ${percent(e.segmentation.meanIoU)}, pixel accuracy ${percent(e.segmentation.pixelAccuracy)}`
    : `AP@[.5:.95] ${percent(e.detection!.ap)}, AP@0.5 ${percent(e.detection!.ap50)}`;
}
