/**
 * The part of a recipe that every trainer's loop reads, whatever the task: how long, in what batches,
 * with which optimizer, learning-rate schedule and weight decay. The classification recipe (Recipe,
 * presets.ts) and the segmentation/detection one (TaskTrainConfig, sceneTasks.ts) both extend it.
 */
import type { OptimizerSpec } from './optimizers.js';
import type { LrSchedule, ScheduleUnit } from './schedules.js';

export interface TrainingRecipe {
  epochs: number;
  batchSize: number;
  /** Batch size for evaluation (results do not depend on it beyond float rounding). */
  evalBatchSize: number;
  optimizer: OptimizerSpec;
  schedule: LrSchedule;
  scheduleUnit: ScheduleUnit;
  /** L2 coefficient λ added to kernel gradients (see weightDecay.ts); 0 disables. */
  weightDecay: number;
  /** Whether D decays too (see weightDecay.ts). */
  decayD: boolean;
}

/**
 * The fields of TrainingRecipe a resumed run must keep (epochs may grow; the evaluation batch size
 * changes nothing), in the order a refusal lists them.
 */
export const TRAINING_RESUME_KEYS = [
  'batchSize',
  'optimizer',
  'schedule',
  'scheduleUnit',
  'weightDecay',
  'decayD',
] as const satisfies readonly (keyof TrainingRecipe)[];
