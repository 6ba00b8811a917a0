/**
 * doconv — DO-Conv (Depthwise Over-Parameterized Convolution) for TensorFlow.js.
 *
 * The public API, grouped by area. This entry is browser-safe (no Node built-ins); the Node-only
 * parts live in `doconv/node`. test/architecture/publicApi.test.ts lists every exported name, so a
 * change to this surface shows in review.
 */

// Training engine: importing doconv registers the wasm training kernels (Conv2DBackpropFilter, ...)
// and re-asserts them whenever wasm becomes the backend. Exported for apps that want to check.
import './engine/register.js';
// TF.js's BatchNormalization, ReLU6 and a residual Add+ReLU run as one op where the backend has
// it (layers/*).
import './layers/addRelu.js';
import './layers/batchNormTraining.js';
import './layers/reluSix.js';
export {
  registerWasmTrainingKernels,
  wasmTrainingKernelsRegistered,
} from './engine/registerWasmTrainingKernels.js';

// Layers: DO-Conv (groups 1), DO-GConv (1 < groups < inCh), DO-DConv (depthwise).
export { DOConvBase, type DOArgs } from './layers/DOConvBase.js';
export { DOConv2D, doConv2d, type DOConv2DArgs, type Composition } from './layers/DOConv2D.js';
export type { WarningSink } from './layers/warnings.js';
export {
  DODepthwiseConv2D,
  doDepthwiseConv2d,
  type DODepthwiseConv2DArgs,
} from './layers/DODepthwiseConv2D.js';
// DO-Conv for Conv1D, and SeparableConv2D with its depthwise part as DO-DConv.
export { DOConv1D, doConv1d, type DOConv1DArgs } from './layers/DOConv1D.js';
export {
  DOSeparableConv2D,
  doSeparableConv2d,
  type DOSeparableConv2DArgs,
} from './layers/DOSeparableConv2D.js';

// Kernel algebra: pure functions on tensors, used by the layers and by folding.
export { diagIdentity } from './algebra/diagIdentity.js';
export { composeKernel, type ComposeKernelOptions } from './algebra/composeKernel.js';
export { convolve, type ConvolveOptions, type FusableActivation } from './algebra/convolve.js';
export { fuseBatchNorm, type BatchNormParams } from './algebra/fuseBatchNorm.js';
export { blockDiagonalKernel, identityPointwiseKernel } from './algebra/groupedKernels.js';
// The functions the official layers compute where they depart from the definition.
export { officialKerasKernel, officialPytorchKernel } from './algebra/officialComposition.js';

// Folding: DO layers → standard tfjs-layers layers with the same outputs (plus optional BN fusion).
export { foldLayer, type StandardLayer } from './fold/foldLayer.js';
export { foldModel, type FoldOptions } from './fold/foldModel.js';
// The reverse: a trained conv model → DO-Conv layers computing the same function (to fine-tune).
export { overparameterize, type OverparameterizeOptions } from './fold/overparameterize.js';

// Loading a saved model with errors that name the layer and weight on a bad file (tf.loadLayersModel
// reports a bare 'Shape mismatch').
export { loadModel } from './io/loadModel.js';

// Interop: PyTorch checkpoints in (safetensors + state_dict); ONNX out (DO layers as grouped/dilated
// Convs, NHWC in and out).
export { readSafetensors, readSafetensorsHeader, writeSafetensors } from './interop/safetensors.js';
export {
  loadPytorchStateDict,
  StateDictError,
  type LoadStateDictOptions,
  type LoadStateDictReport,
  type StateDictComposition,
} from './interop/pytorchStateDict.js';
export {
  deriveStateDictMap,
  STATE_DICT_LAYOUTS,
  type DerivedStateDictMap,
  type StateDictLayout,
} from './interop/stateDictMap.js';
export {
  exportOnnx,
  onnxSupportedLayers,
  ONNX_OPSET,
  type ExportOnnxOptions,
} from './interop/onnx/index.js';

// Model zoo: named builders taking a conv factory, so 'conv' vs 'doconv' changes exactly one thing.
export {
  convFactory,
  convKinds,
  buildModel,
  isZooModelName,
  zooModelInfo,
  zooModelNames,
  tfMnistSample,
  ptMnistSample,
  gluonLenet,
  cifarResNet,
  mobileNetV1,
  mobileNetV2,
  type ConvFactory,
  type ConvKind,
  type BuildModelOptions,
  type CifarResNetConfig,
  type ZooModelInfo,
  type ZooModelName,
  type ZooBuilderOptions,
  type ZooOutput,
} from './models/index.js';

// Data (browser-safe part): the Dataset shape, IDX and CIFAR-10 parsers, seeded batches and
// augmentation. The file loaders are in doconv/node.
export {
  checkDataset,
  readImages,
  sliceDataset,
  takeFirst,
  parseIdx,
  parseIdxImages,
  parseIdxLabels,
  idxDataset,
  parseCifar10Batch,
  CIFAR10_CLASSES,
  createRng,
  mixSeeds,
  flipCrop,
  randomFlipCrop,
  batches,
  batchCount,
  type Dataset,
  type ImageRows,
  type ImageShape,
  type Batch,
  type BatchOptions,
  type Normalization,
  type Rng,
  type FlipCropOptions,
} from './data/index.js';

// Segmentation and detection: the scenes data set (generated, seeded, byte-identical everywhere),
// COCO JSON + PNG masks, the task nets' targets, decoding (max-pool peaks + top-k) and inference
// helpers, the losses and the metrics (mIoU from one confusion matrix; COCO-style AP). The plain
// conv twin of a dilated DO-Conv layer: DilatedConv2D (space-to-batch, as the DO layers).
export { DilatedConv2D, dilatedConv2d } from './layers/DilatedConv2D.js';
export {
  zooModelTask,
  deeplabMini,
  centerNetMini,
  decodeDetections,
  detectionLists,
  predictMask,
  detectObjects,
  type ZooTask,
  type DecodeOptions,
  type DecodedDetections,
  type Detection,
  type DetectOptions,
  type TaskImage,
} from './models/index.js';
export {
  generateScenes,
  checkSceneSet,
  sliceScenes,
  sceneBoxes,
  IGNORE_LABEL,
  type SceneSet,
  type SceneBoxes,
  type SceneOptions,
} from './data/scenes.js';
export {
  parseCocoAnnotations,
  cocoSceneSet,
  decodePngPixels,
  decodePngMask,
  type CocoAnnotations,
  type CocoSources,
} from './data/coco.js';
export {
  sceneBatches,
  makeSceneBatch,
  detectionTargets,
  type DenseTask,
  type SceneBatch,
  type SceneBatchOptions,
} from './data/sceneBatches.js';
export { pixelCrossEntropy, centerNetLoss, centerNetLossTerms } from './train/losses.js';
export { ConfusionMatrix, type SegmentationScores } from './train/segmentationMetrics.js';
export {
  averagePrecision,
  detectionScores,
  boxIoU,
  type DetectionScores,
  type ScoredBox,
  type TruthBox,
} from './train/detectionMetrics.js';
