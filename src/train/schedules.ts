/**
 * Learning-rate schedules as pure functions of training progress, so a resumed run gets exactly the
 * rates an uninterrupted one would (no schedule state to save).
 *
 * Progress t is measured in epochs: per-epoch schedules use t = epoch (an integer, the rate is constant
 * within an epoch); per-step schedules use t = epoch + step/stepsPerEpoch (the rate changes every step).
 */

/**
 * What every schedule may add: a linear warm-up. For the first `warmupEpochs` epochs the rate is
 * scaled by (steps done, this one included) / (warm-up steps), always per step whatever the schedule's
 * unit (Goyal et al. 2017; timm's `warmup_epochs`). Adam's first steps move every weight by about lr
 * whatever its gradient's scale; without a warm-up, a high rate kills ReLU units of a head that has no
 * BatchNorm (measured on centernet-mini: results/README.md#detection-warm-up).
 */
interface ScheduleBase {
  /** Epochs (may be fractional) of linear warm-up. Default 0: none. */
  warmupEpochs?: number;
}

/** lr(t) = base. */
export interface ConstantSchedule extends ScheduleBase {
  kind: 'constant';
}

/** lr(t) = base · gamma^k, k = how many milestones are ≤ t (the MultiStepLR / StepLR shape). */
export interface StepSchedule extends ScheduleBase {
  kind: 'step';
  /** Epochs at which the rate is multiplied by gamma, e.g. [100, 150]. */
  milestones?: readonly number[];
  /** Instead of milestones: multiply every `every` epochs. */
  every?: number;
  /** Factor per milestone. Default 0.1. */
  gamma?: number;
}

/** lr(t) = min + (base − min)·(1 + cos(π·t/T))/2 with T = total epochs (SGDR without restarts). */
export interface CosineSchedule extends ScheduleBase {
  kind: 'cosine';
  /** Rate at the end. Default 0. */
  minLr?: number;
}

export type LrSchedule = ConstantSchedule | StepSchedule | CosineSchedule;
export const SCHEDULE_KINDS = ['constant', 'step', 'cosine'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];
/** Whether the schedule's rate changes once per epoch or at every step. */
export type ScheduleUnit = 'epoch' | 'step';

/** Where training is when a rate is needed. */
export interface ScheduleProgress {
  /** 0-based epoch. */
  epoch: number;
  /** 0-based step within the epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Total epochs of the run. */
  epochs: number;
}

/** The learning rate for the step at `p`, given the base rate and the schedule. */
export function learningRateAt(
  schedule: LrSchedule,
  baseLr: number,
  unit: ScheduleUnit,
  p: ScheduleProgress,
): number {
  const t = unit === 'step' ? p.epoch + p.step / p.stepsPerEpoch : p.epoch;
  return warmupFactor(schedule.warmupEpochs, p) * scheduledRate(schedule, baseLr, t, p.epochs);
}

/** The warm-up's scale for the step at `p`: (steps done incl. this one) / (warm-up steps), at most 1. */
function warmupFactor(warmupEpochs: number | undefined, p: ScheduleProgress): number {
  if (warmupEpochs === undefined || warmupEpochs === 0) return 1;
  const warmupSteps = warmupEpochs * p.stepsPerEpoch;
  return Math.min(1, (p.epoch * p.stepsPerEpoch + p.step + 1) / warmupSteps);
}

/** The schedule's own rate at progress t (epochs), before any warm-up. */
function scheduledRate(schedule: LrSchedule, baseLr: number, t: number, epochs: number): number {
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'step': {
      const gamma = schedule.gamma ?? 0.1;
      let k: number;
      if (schedule.milestones !== undefined) k = schedule.milestones.filter((m) => m <= t).length;
      else if (schedule.every !== undefined) k = Math.floor(t / schedule.every);
      else
        throw new Error(`step schedule: give milestones or every, got ${JSON.stringify(schedule)}`);
      return baseLr * gamma ** k;
    }
    case 'cosine': {
      const minLr = schedule.minLr ?? 0;
      return minLr + ((baseLr - minLr) * (1 + Math.cos((Math.PI * t) / epochs))) / 2;
    }
    default:
      throw new Error(
        `schedule: unknown kind ${JSON.stringify((schedule as { kind: unknown }).kind)}; known: ${SCHEDULE_KINDS.join(', ')}`,
      );
  }
}

/** Throws unless `schedule` is well-formed (called once before training, so errors come early). */
export function checkSchedule(schedule: LrSchedule): void {
  if (!SCHEDULE_KINDS.includes(schedule.kind)) {
    throw new Error(
      `schedule: unknown kind ${JSON.stringify(schedule.kind)}; known: ${SCHEDULE_KINDS.join(', ')}`,
    );
  }
  const { warmupEpochs } = schedule;
  if (warmupEpochs !== undefined && !(Number.isFinite(warmupEpochs) && warmupEpochs >= 0)) {
    throw new Error(
      `schedule: warmupEpochs must be a finite number of epochs ≥ 0, got ${JSON.stringify(warmupEpochs)}`,
    );
  }
  if (schedule.kind === 'step') {
    const { milestones, every, gamma } = schedule;
    if ((milestones === undefined) === (every === undefined)) {
      throw new Error(
        `step schedule: give exactly one of milestones or every, got ${JSON.stringify(schedule)}`,
      );
    }
    if (milestones !== undefined && milestones.some((m) => !(Number.isFinite(m) && m > 0))) {
      throw new Error(
        `step schedule: milestones must be positive epochs, got ${JSON.stringify(milestones)}`,
      );
    }
    if (every !== undefined && !(Number.isFinite(every) && every > 0)) {
      throw new Error(
        `step schedule: every must be a positive number of epochs, got ${JSON.stringify(every)}`,
      );
    }
    if (gamma !== undefined && !(gamma > 0)) {
      throw new Error(`step schedule: gamma must be > 0, got ${JSON.stringify(gamma)}`);
    }
  }
  if (schedule.kind === 'cosine' && schedule.minLr !== undefined && !(schedule.minLr >= 0)) {
    throw new Error(`cosine schedule: minLr must be ≥ 0, got ${JSON.stringify(schedule.minLr)}`);
  }
}
