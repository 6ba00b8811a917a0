/**
 * The two models compared: one zoo architecture built with plain convs and with DO-Conv, from the same
 * seed, compiled alike (same optimizer settings, same loss). Only the conv kind differs.
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel, zooModelInfo, type ConvKind, type ZooOutput } from '../../src/index.js';

/** MNIST: 28×28 grey digits, 10 classes. */
export const INPUT_SHAPE = [28, 28, 1] as const;
export const NUM_CLASSES = 10;
export const LEARNING_RATE = 1e-3;

export interface Twin {
  kind: ConvKind;
  /** 'Conv' or 'DO-Conv', as shown on the page. */
  label: string;
  model: tf.LayersModel;
}

export interface Twins {
  modelName: string;
  output: ZooOutput;
  conv: Twin;
  doconv: Twin;
}

/** The training loss for a zoo output kind: cross-entropy on probabilities or on logits. */
export function lossFor(
  output: ZooOutput,
): string | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor) {
  return output === 'softmax'
    ? 'categoricalCrossentropy'
    : (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred);
}

function twin(modelName: string, kind: ConvKind, seed: number, output: ZooOutput): Twin {
  const model = buildModel(modelName, {
    conv: kind,
    inputShape: INPUT_SHAPE,
    numClasses: NUM_CLASSES,
    seed,
  });
  model.compile({ optimizer: tf.train.adam(LEARNING_RATE), loss: lossFor(output) });
  return { kind, label: kind === 'conv' ? 'Conv' : 'DO-Conv', model };
}

/** Builds and compiles both versions of zoo model `modelName`. */
export function buildTwins(modelName: string, seed: number): Twins {
  const { output } = zooModelInfo(modelName);
  return {
    modelName,
    output,
    conv: twin(modelName, 'conv', seed, output),
    doconv: twin(modelName, 'doconv', seed, output),
  };
}

/** Frees both models' weights and optimizer state. */
export function disposeTwins(twins: Twins): void {
  for (const t of [twins.conv, twins.doconv]) {
    t.model.optimizer?.dispose();
    t.model.dispose();
  }
}
