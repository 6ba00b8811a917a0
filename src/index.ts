/**
 * doconv — DO-Conv (Depthwise Over-Parameterized Convolution) for TensorFlow.js.
 *
 * This entry is browser-safe: no Node built-ins. Node-only parts live in `doconv/node`.
 */

// Training engine: importing doconv registers the wasm training kernels (Conv2DBackpropFilter, ...).
import './engine/register.js';
export {
  registerWasmTrainingKernels,
  wasmTrainingKernelConfigs,
  wasmTrainingKernelsRegistered,
} from './engine/index.js';

// Kernel algebra: pure functions on tensors, used by the layers and by folding.
export { diagIdentity } from './algebra/diagIdentity.js';
export {
  composeKernel,
  effectiveDepthwise,
  type ComposeKernelOptions,
} from './algebra/composeKernel.js';
export { convolve, type ConvolveOptions, type FusableActivation } from './algebra/convolve.js';
export { fuseBatchNorm, type BatchNormParams } from './algebra/fuseBatchNorm.js';
export { blockDiagonalKernel, identityPointwiseKernel } from './algebra/groupedKernels.js';

// Layers: DO-Conv (groups 1), DO-GConv (1 < groups < inCh), DO-DConv (depthwise).
export { DOConvBase, type DOArgs } from './layers/DOConvBase.js';
export { DOConv2D, doConv2d, type DOConv2DArgs } from './layers/DOConv2D.js';
export {
  DODepthwiseConv2D,
  doDepthwiseConv2d,
  type DODepthwiseConv2DArgs,
} from './layers/DODepthwiseConv2D.js';

// Folding: DO layers → standard tfjs-layers layers with the same outputs (plus optional BN fusion).
export { foldLayer, type StandardLayer } from './fold/foldLayer.js';
export { foldModel, type FoldOptions } from './fold/foldModel.js';

// ONNX export: any supported LayersModel (DO layers folded into grouped/dilated Convs), NHWC in and out.
export {
  exportOnnx,
  onnxSupportedLayers,
  ONNX_OPSET,
  type ExportOnnxOptions,
} from './interop/onnx/index.js';

// Datasets (browser-safe part): Dataset shape, IDX/CIFAR parsers, seeded shuffling, batches, augmentation.
export * from './data/index.js';

// Model zoo: named builders taking a conv factory, so 'conv' vs 'doconv' changes exactly one thing.
export * from './models/index.js';

// Interop: PyTorch checkpoints in (safetensors + state_dict), and the official layers' compositions.
export { readSafetensors, readSafetensorsHeader, writeSafetensors } from './interop/safetensors.js';
export {
  loadPytorchStateDict,
  StateDictError,
  type LoadStateDictOptions,
  type LoadStateDictReport,
} from './interop/pytorchStateDict.js';
export {
  officialKerasKernel,
  officialPytorchKernel,
  weightForKernelAtZeroD,
} from './algebra/officialComposition.js';
