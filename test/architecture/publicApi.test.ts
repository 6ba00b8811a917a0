/**
 * The public surface, spelled out: the value names `doconv` and `doconv/node` export. A change to
 * either list is a change to the API and should be deliberate (update the list in the same commit,
 * and the README where it documents the name). Types are listed in src/index.ts and src/node.ts.
 */
import { describe, expect, it } from 'vitest';

const ROOT_EXPORTS = [
  // engine
  'registerWasmTrainingKernels',
  'wasmTrainingKernelsRegistered',
  // layers
  'DOConvBase',
  'DOConv2D',
  'doConv2d',
  'DODepthwiseConv2D',
  'doDepthwiseConv2d',
  'DOConv1D',
  'doConv1d',
  'DOSeparableConv2D',
  'doSeparableConv2d',
  // algebra
  'diagIdentity',
  'composeKernel',
  'convolve',
  'fuseBatchNorm',
  'blockDiagonalKernel',
  'identityPointwiseKernel',
  'officialKerasKernel',
  'officialPytorchKernel',
  // fold
  'foldLayer',
  'foldModel',
  'overparameterize',
  // io
  'loadModel',
  // interop
  'readSafetensors',
  'readSafetensorsHeader',
  'writeSafetensors',
  'loadPytorchStateDict',
  'StateDictError',
  'deriveStateDictMap',
  'STATE_DICT_LAYOUTS',
  'exportOnnx',
  'onnxSupportedLayers',
  'ONNX_OPSET',
  // zoo
  'convFactory',
  'convKinds',
  'buildModel',
  'isZooModelName',
  'zooModelInfo',
  'zooModelNames',
  'tfMnistSample',
  'ptMnistSample',
  'gluonLenet',
  'cifarResNet',
  'mobileNetV1',
  'mobileNetV2',
  // data (browser-safe)
  'checkDataset',
  'readImages',
  'sliceDataset',
  'takeFirst',
  'parseIdx',
  'parseIdxImages',
  'parseIdxLabels',
  'idxDataset',
  'parseCifar10Batch',
  'CIFAR10_CLASSES',
  'createRng',
  'mixSeeds',
  'flipCrop',
  'randomFlipCrop',
  'batches',
  'batchCount',
  // segmentation and detection
  'DilatedConv2D',
  'dilatedConv2d',
  'zooModelTask',
  'deeplabMini',
  'centerNetMini',
  'decodeDetections',
  'detectionLists',
  'predictMask',
  'detectObjects',
  'generateScenes',
  'checkSceneSet',
  'sliceScenes',
  'sceneBoxes',
  'IGNORE_LABEL',
  'parseCocoAnnotations',
  'cocoSceneSet',
  'decodePngPixels',
  'decodePngMask',
  'sceneBatches',
  'makeSceneBatch',
  'detectionTargets',
  'pixelCrossEntropy',
  'centerNetLoss',
  'centerNetLossTerms',
  'ConfusionMatrix',
  'averagePrecision',
  'detectionScores',
  'boxIoU',
];

/** What doconv/node adds to the root's names. */
const NODE_ONLY_EXPORTS = [
  'fileSystem',
  'loadDataset',
  'loadMnist',
  'loadFashionMnist',
  'loadCifar10',
  'loadIdxFolder',
  'loadImageFolder',
  'loadImageFolderSplits',
  'decodeImage',
  'readImage',
  'predictFiles',
  'predictImage',
  'loadPredictor',
  'DATASET_NAMES',
  'FASHION_MNIST_CLASSES',
  'estimateStepBytes',
  'checkStepMemory',
  'memoryBudget',
  'useBestBackend',
  'currentEngine',
  'trainModel',
  'compareConvs',
  'comparisonTable',
  'evaluateSavedModel',
  'foldSavedModel',
  'importPytorchCheckpoint',
  'loadSavedModel',
  'measureTrainingSpeed',
  'evaluate',
  'crossEntropy',
  'createOptimizer',
  'SGD',
  'Adam',
  'PRESETS',
  'PRESET_NAMES',
  'presetByName',
  'createParallelTrainer',
  'loadModelBuilder',
  'withInitialWeights',
  'convertSavedModel',
  'exportModel',
  'exportFormats',
  'loadMnistScenes',
  'loadCocoFolder',
  'evaluateTask',
];

describe('public API', () => {
  it('doconv exports exactly the listed names', async () => {
    const root = await import('../../src/index.js');
    expect(Object.keys(root).sort()).toEqual([...ROOT_EXPORTS].sort());
  });

  it('doconv/node exports the root names plus exactly the listed Node names', async () => {
    const node = await import('../../src/node.js');
    expect(Object.keys(node).sort()).toEqual([...ROOT_EXPORTS, ...NODE_ONLY_EXPORTS].sort());
  });
});
