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
  type BuildModelOptions,
  type ZooModelInfo,
  type ZooModelName,
} from './zoo.js';
export type { ZooBuilder, ZooBuilderOptions, ZooOutput } from './types.js';
