/**
 * What the zoo benchmark trains: every zoo net at its natural input (the MNIST samples on 28×28×1,
 * the CIFAR nets on 32×32×3, the task nets on 64×64×1 as the mnist-scenes tasks feed them), a batch
 * size per net, and a loss both sides compute alike (bench/torch_train.py builds the twin with
 * tools/doconv_torch and the same loss):
 * - classification and segmentation: softmax cross-entropy on the logits (per pixel for
 *   segmentation) as the trainer computes it (train/losses.ts crossEntropy: one op on the native
 *   engine, as PyTorch's F.cross_entropy is one); tf-mnist-sample outputs probabilities, so
 *   categorical cross-entropy there;
 * - detection (centernet-mini): mean squared error of the heads against a random target — CenterNet's
 *   focal loss costs little next to the convs, and the same simple loss on both sides keeps the
 *   comparison about the net.
 */
import * as tf from '@tensorflow/tfjs';
// What importing doconv does (kernels, gradients, the one-op BatchNorm and ReLU6 layer routes),
// as for a user of the package.
import '../src/index.js';
import {
  buildModel,
  zooModelInfo,
  zooModelNames,
  zooModelTask,
  type ZooTask,
} from '../src/models/index.js';
import { crossEntropy } from '../src/train/losses.js';

export interface ZooBenchNet {
  name: string;
  inputShape: [number, number, number];
  /** Output width: classes, segmentation classes with background, detection classes (heads add 4). */
  numClasses: number;
  task: ZooTask;
  /** Default batch size (the measurements; --batch net=N overrides). */
  batch: number;
}

const MNIST_NETS = new Set(['tf-mnist-sample', 'pt-mnist-sample', 'gluon-lenet']);
// mnist-scenes: 10 digit classes + background for segmentation, 10 object classes for detection.
const TASK_CLASSES: Record<ZooTask, number> = {
  classification: 10,
  segmentation: 11,
  detection: 10,
};
const DEFAULT_BATCH: Record<string, number> = {
  'mobilenet-v1': 64,
  'mobilenet-v2': 32,
  'deeplab-mini': 32,
  'centernet-mini': 32,
};

/** The benchmark's view of zoo net `name` (throws naming it when it is not in the zoo). */
export function zooBenchNet(name: string): ZooBenchNet {
  zooModelInfo(name); // the zoo's own error for an unknown name
  const task = zooModelTask(name);
  const inputShape: [number, number, number] =
    task !== 'classification' ? [64, 64, 1] : MNIST_NETS.has(name) ? [28, 28, 1] : [32, 32, 3];
  const batch = DEFAULT_BATCH[name] ?? (MNIST_NETS.has(name) ? 32 : 128);
  return { name, inputShape, numClasses: TASK_CLASSES[task], task, batch };
}

/** Every zoo net, in the zoo's order. */
export function allZooBenchNets(): ZooBenchNet[] {
  return zooModelNames.map(zooBenchNet);
}

/** The net, built (seeded) and compiled with the benchmark's loss and `optimizer`. */
export function buildZooBenchModel(
  net: ZooBenchNet,
  conv: 'conv' | 'doconv',
  optimizer: tf.Optimizer,
): tf.LayersModel {
  const model = buildModel(net.name, {
    conv,
    inputShape: net.inputShape,
    numClasses: net.numClasses,
    seed: 1,
  });
  const softmaxOut = (zooModelInfo(net.name).output as string) === 'softmax';
  const loss =
    net.task === 'detection'
      ? 'meanSquaredError'
      : softmaxOut
        ? 'categoricalCrossentropy'
        : (yTrue: tf.Tensor, yPred: tf.Tensor) => crossEntropy(yTrue, yPred, 'logits');
  model.compile({ optimizer, loss });
  return model;
}

/** A random batch of `batch` inputs and targets shaped for the net's loss (seeded). */
export function randomZooBatch(
  net: ZooBenchNet,
  model: tf.LayersModel,
  batch: number,
): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => {
    const x = tf.randomNormal([batch, ...net.inputShape], 0, 1, 'float32', 1);
    const outShape = (model.outputs[0].shape as number[]).slice(1);
    if (net.task === 'detection') {
      return { x, y: tf.randomUniform([batch, ...outShape], 0, 1, 'float32', 2) };
    }
    const classes = outShape[outShape.length - 1];
    const labels = tf.randomUniform([batch, ...outShape.slice(0, -1)], 0, classes, 'int32', 2);
    return { x, y: tf.oneHot(labels, classes) };
  });
}
