import type * as tf from '@tensorflow/tfjs';
import { convFactory, convKinds, type ConvFactory, type ConvKind } from './convFactory.js';
import { gluonLenet, ptMnistSample, tfMnistSample } from './mnistSamples.js';
import { mobileNetV1, mobileNetV2 } from './mobilenet.js';
import { cifarResNet } from './resnetCifar.js';
import { deeplabMini } from './deeplabMini.js';
import { centerNetMini } from './centerNetMini.js';
import type { ZooBuilder, ZooOutput } from './types.js';

/** One entry of the zoo table. */
export interface ZooModelInfo {
  /** One line: what the net is and where it comes from. */
  description: string;
  /** What the output layer emits. */
  output: ZooOutput;
  build: ZooBuilder;
  /** What the net is trained for; absent means 'classification'. */
  task?: ZooTask;
}

/**
 * 'classification': one vector of class scores per image; 'segmentation': per-pixel class logits
 * (numClasses includes background); 'detection': a CenterNet head tensor (numClasses object classes).
 */
export type ZooTask = 'classification' | 'segmentation' | 'detection';

/** The task of zoo model `name` ('classification' unless the table says otherwise). */
export function zooModelTask(name: string): ZooTask {
  return (zooModelInfo(name) as ZooModelInfo).task ?? 'classification';
}

/** The zoo: name → builder and description. Every builder takes any [h, w, c] input and class count. */
export const zooModels = {
  'tf-mnist-sample': {
    description:
      "DO-Conv's TF sample: conv 32 3×3 relu → conv 8 3×3 relu → dense softmax (Keras init)",
    output: 'softmax',
    build: tfMnistSample,
  },
  'pt-mnist-sample': {
    description:
      "DO-Conv's PyTorch sample: 3× conv 3×3 stride 2 pad 1 + relu (16, 16, classes) → average pool (PyTorch init)",
    output: 'logits',
    build: ptMnistSample,
  },
  'gluon-lenet': {
    description:
      "DO-Conv's GluonCV sample (LeNet): conv 20 5×5 → pool → conv 50 5×5 → pool → dense 500 → dense, tanh (Xavier 2.24)",
    output: 'logits',
    build: gluonLenet,
  },
  'plain-20': {
    description: 'ResNet-20 without shortcuts (20 layers, 16-32-64 channels), BN + ReLU',
    output: 'logits',
    build: cifarResNet({ depth: 20, variant: 'plain' }),
  },
  'resnet-20': {
    description:
      'CIFAR ResNet-20 v1 (3 blocks per stage, 16-32-64 channels, projection shortcuts), ~0.27M parameters',
    output: 'logits',
    build: cifarResNet({ depth: 20, variant: 'v1' }),
  },
  'resnet-32': {
    description: 'CIFAR ResNet-32 v1 (5 blocks per stage), ~0.47M parameters',
    output: 'logits',
    build: cifarResNet({ depth: 32, variant: 'v1' }),
  },
  'resnet-56': {
    description: 'CIFAR ResNet-56 v1 (9 blocks per stage), ~0.86M parameters',
    output: 'logits',
    build: cifarResNet({ depth: 56, variant: 'v1' }),
  },
  'preresnet-20': {
    description: 'CIFAR pre-activation ResNet-20 (v2: BN-ReLU-conv, 1×1 projection shortcuts)',
    output: 'logits',
    build: cifarResNet({ depth: 20, variant: 'v2' }),
  },
  'mobilenet-v1': {
    description:
      'MobileNet-v1, CIFAR-sized (stem stride 1, width 1), depthwise 3×3 as DO-DConv under doconv',
    output: 'logits',
    build: mobileNetV1,
  },
  'mobilenet-v2': {
    description:
      'MobileNet-v2, CIFAR-sized (stem and stage-2 stride 1, width 1), depthwise 3×3 as DO-DConv under doconv',
    output: 'logits',
    build: mobileNetV2,
  },
  'deeplab-mini': {
    description:
      'DeepLab-v3+-style segmenter: conv backbone at output stride 8 (last block dilated), ASPP (1×1, rates 2 and 4 on 8×8, image pooling), decoder at stride 4, bilinear ×4 logits; ~19 MMAC on 64×64',
    output: 'logits',
    task: 'segmentation',
    build: (o) => deeplabMini(o),
  },
  'centernet-mini': {
    description:
      'CenterNet-style detector on a MobileNet-style (depthwise) backbone: heatmap, size and offset heads at stride 4, concatenated; ~11 MMAC on 64×64',
    output: 'logits',
    task: 'detection',
    build: centerNetMini,
  },
} as const satisfies Record<string, ZooModelInfo>;

/** A name in the zoo. */
export type ZooModelName = keyof typeof zooModels;

/** Every model name, in table order. */
export const zooModelNames = Object.keys(zooModels) as ZooModelName[];

/** Options of {@link buildModel}. */
export interface BuildModelOptions {
  /** 'conv' (plain convs), 'doconv' (DO-Conv / DO-DConv for every k×k conv), or a factory of your own. */
  conv: ConvKind | ConvFactory;
  /** One example's shape [height, width, channels], e.g. [28, 28, 1] or [32, 32, 3]. */
  inputShape: readonly [number, number, number] | readonly number[];
  /** Width of the output layer (a positive integer). */
  numClasses: number;
  /** Seeds every initializer (an integer): the same seed gives identical initial weights. */
  seed?: number;
}

/** Whether `name` is a zoo model. */
export function isZooModelName(name: string): name is ZooModelName {
  return Object.hasOwn(zooModels, name);
}

/** The table entry of `name`; throws naming the unknown model and listing the known ones. */
export function zooModelInfo(name: string): ZooModelInfo {
  if (!isZooModelName(name)) {
    throw new Error(
      `Unknown model ${JSON.stringify(name)}; known models: ${zooModelNames.join(', ')}`,
    );
  }
  return zooModels[name];
}

/**
 * Builds zoo model `name`: a fresh tf.LayersModel (not compiled).
 *
 *     const model = buildModel('resnet-20', { conv: 'doconv', inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
 */
export function buildModel(name: string, options: BuildModelOptions): tf.LayersModel {
  const info = zooModelInfo(name);
  const { inputShape, numClasses, seed } = options;
  if (inputShape?.length !== 3 || !inputShape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new Error(
      `buildModel('${name}'): inputShape must be [height, width, channels] of positive integers, got ${JSON.stringify(inputShape)}`,
    );
  }
  if (!Number.isSafeInteger(numClasses) || numClasses < 1) {
    throw new Error(
      `buildModel('${name}'): numClasses must be a positive integer, got ${JSON.stringify(numClasses)}`,
    );
  }
  if (seed !== undefined && !Number.isInteger(seed)) {
    throw new Error(`buildModel('${name}'): seed must be an integer, got ${JSON.stringify(seed)}`);
  }
  let conv: ConvFactory;
  if (typeof options.conv === 'string') conv = convFactory(options.conv);
  else if (options.conv && typeof options.conv.conv2d === 'function') conv = options.conv;
  else {
    throw new Error(
      `buildModel('${name}'): conv must be ${convKinds.map((k) => `'${k}'`).join(' or ')} or a ConvFactory, got ${JSON.stringify(options.conv)}`,
    );
  }
  return info.build({
    conv,
    inputShape: [inputShape[0], inputShape[1], inputShape[2]],
    numClasses,
    seed,
  });
}
