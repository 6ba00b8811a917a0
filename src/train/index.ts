/**
 * Training: one seeded, resumable trainer for zoo models of every task (classification,
 * segmentation, detection: task values, trainingTask.ts), presets for the official DO-Conv samples,
 * Conv vs DO-Conv comparison, evaluation and folding of saved models.
 * Node-only (reads datasets and writes runs); re-exported by `doconv/node`.
 */
export {
  trainModel,
  taskOf,
  type TrainOptions,
  type SceneTrainOptions,
  type TrainResult,
  type TaskTrainResult,
  type TrainSummary,
  type DoconvModelMetadata,
  CHECKPOINT_DIR,
  FOLDED_DIR,
  SUMMARY_FILE,
} from './trainModel.js';
export {
  type TaskTrainConfig,
  type TaskTrainSummary,
  type TaskEpochMetrics,
  DEFAULT_SCENE_MODEL,
} from './sceneTasks.js';
export {
  type TrainingTask,
  type TaskRun,
  type TaskEpochs,
  type TaskComparison,
} from './trainingTask.js';
export { evaluateTask, type TaskEvaluation } from './sceneEvaluation.js';
export {
  compareConvs,
  comparisonName,
  comparisonTable,
  type CompareOptions,
  type SceneCompareOptions,
  type ComparisonRecord,
  type TaskComparisonRecord,
  type ComparisonResult,
} from './compare.js';
export { meanStd, type MeanStd } from './comparisonRecord.js';
export {
  evaluateSavedModel,
  foldSavedModel,
  loadSavedModel,
  modelMetadata,
  type EvaluateSavedOptions,
  type SavedModelEvaluation,
  type SavedClassifierEvaluation,
  type SavedSceneEvaluation,
  type FoldSavedOptions,
  type FoldReport,
} from './savedModels.js';
export {
  importPytorchCheckpoint,
  type ImportCheckpointOptions,
  type ImportCheckpointResult,
} from './importCheckpoint.js';
export { type PytorchCheckpointInfo } from './pytorchCheckpointInfo.js';
export { measureTrainingSpeed, type SpeedOptions, type SpeedResult } from './speed.js';
export {
  resolveConfig,
  RESUME_KEYS,
  type RecipeOptions,
  type TrainConfig,
  type ModelBuilder,
} from './config.js';
export { type ClassificationOptions } from './classificationTask.js';
export {
  PRESETS,
  PRESET_NAMES,
  presetByName,
  defaultRecipe,
  type Preset,
  type PresetName,
  type Recipe,
} from './presets.js';
export { trainEpoch, type LoopConfig } from './loop.js';
export { type EpochResult } from './trainSteps.js';
export {
  evaluate,
  logitsModel,
  evaluateFolded,
  maxAbsLogitDifference,
  type Evaluation,
  type EvaluateOptions,
  type FoldedEvaluation,
} from './evaluate.js';
export {
  crossEntropy,
  correctCount,
  detectOutputKind,
  pixelCrossEntropy,
  centerNetLoss,
  type OutputKind,
} from './losses.js';
export {
  SGD,
  Adam,
  ScheduledOptimizer,
  createOptimizer,
  OPTIMIZER_KINDS,
  type OptimizerSpec,
  type OptimizerKind,
  type SgdArgs,
  type AdamArgs,
  type NamedTensor,
} from './optimizers.js';
export {
  learningRateAt,
  checkSchedule,
  SCHEDULE_KINDS,
  type LrSchedule,
  type ScheduleKind,
  type ScheduleUnit,
  type ScheduleProgress,
  type ConstantSchedule,
  type StepSchedule,
  type CosineSchedule,
} from './schedules.js';
export {
  decayMask,
  addWeightDecay,
  KERNEL_WEIGHT_NAMES,
  D_WEIGHT_NAME,
  type DecayOptions,
} from './weightDecay.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  hasCheckpoint,
  type CheckpointContents,
  type LoadedCheckpoint,
} from './checkpoint.js';
export {
  appendMetrics,
  writeMetrics,
  readMetrics,
  METRICS_FILE,
  type EpochMetrics,
} from './metrics.js';
export {
  createProgress,
  formatEpochLine,
  formatDuration,
  LineProgress,
  silentProgress,
  PROGRESS_MODES,
  type ProgressMode,
  type ProgressReporter,
  type StepProgress,
} from './progress.js';
export {
  loadTrainTest,
  normalizationFor,
  DATASET_STATS,
  NORMALIZE_KINDS,
  type NormalizeKind,
  type DataSelection,
} from './data.js';
export {
  selectBackend,
  engineRecord,
  describeEngine,
  checkResumeEngine,
  machineInfo,
  BACKEND_CHOICES,
  type BackendChoice,
  type EngineRecord,
  type MachineInfo,
} from './environment.js';
export { accuracyCurvesSvg, meanCurve, type CurveSeries, type PlotOptions } from './plot.js';
