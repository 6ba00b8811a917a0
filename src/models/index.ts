/** The model zoo: small named builders, every conv taken from an injected conv factory. */
export {
  convFactory,
  convKinds,
  kernelArea,
  type ConvFactory,
  type ConvKind,
} from './convFactory.js';
export { SeededInitializers } from './initializers.js';
export { tfMnistSample, ptMnistSample, gluonLenet } from './mnistSamples.js';
export { cifarResNet, type CifarResNetConfig } from './resnetCifar.js';
export { mobileNetV1, mobileNetV2 } from './mobilenet.js';
export {
  buildModel,
  isZooModelName,
  zooModelInfo,
  zooModelNames,
  zooModels,
  zooModelTask,
  type BuildModelOptions,
  type ZooTask,
  type ZooModelInfo,
  type ZooModelName,
} from './zoo.js';
export type { ZooBuilder, ZooBuilderOptions, ZooOutput } from './types.js';
export {
  deeplabMini,
  asppRates,
  DEEPLAB_OUTPUT_STRIDE,
  type DeeplabMiniOptions,
} from './deeplabMini.js';
export { centerNetMini, CENTERNET_OUTPUT_STRIDE, HEATMAP_PRIOR_BIAS } from './centerNetMini.js';
export {
  decodeDetections,
  detectionLists,
  splitDetectionHeads,
  type DecodeOptions,
  type DecodedDetections,
  type Detection,
} from './decodeDetections.js';
export { predictMask, detectObjects, type DetectOptions, type TaskImage } from './taskInference.js';
