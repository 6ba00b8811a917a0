/**
 * The three nets of the DO-Conv authors' MNIST demos, layer for layer (see issue 4 for the README's
 * numbers). Each keeps its framework's default initialisation, so a run here starts like a run there.
 */
import * as tf from '@tensorflow/tfjs';
import { apply } from './graph.js';
import { SeededInitializers } from './initializers.js';
import type { ZooBuilderOptions } from './types.js';

/**
 * The TF/Keras sample: Conv2D(32, 3, relu) → Conv2D(8, 3, relu) → Flatten → Dense(numClasses, softmax).
 * Keras defaults: valid padding, glorot-uniform kernels, zero biases. Outputs probabilities (softmax).
 * (A comment in the official sample gives the DO-Conv variant 32 filters in conv2; the README and
 * this zoo use 8 on both sides, so the comparison changes one thing.)
 */
export function tfMnistSample({
  conv,
  inputShape,
  numClasses,
  seed,
}: ZooBuilderOptions): tf.LayersModel {
  const init = new SeededInitializers(seed);
  const input = tf.input({ shape: inputShape, name: 'input' });
  let y = apply(
    conv.conv2d({
      filters: 32,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: init.glorotUniform(),
      name: 'conv1',
    }),
    input,
  );
  y = apply(
    conv.conv2d({
      filters: 8,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: init.glorotUniform(),
      name: 'conv2',
    }),
    y,
  );
  y = apply(tf.layers.flatten({ name: 'flatten' }), y);
  y = apply(
    tf.layers.dense({
      units: numClasses,
      activation: 'softmax',
      kernelInitializer: init.glorotUniform(),
      name: 'dense',
    }),
    y,
  );
  return tf.model({ inputs: input, outputs: y, name: 'tf-mnist-sample' });
}

/**
 * The PyTorch sample: three Conv(3×3, stride 2, padding 1) + ReLU with 16, 16 and numClasses filters,
 * then a global average pool (the sample's avg_pool2d(4) covers the whole 4×4 map for 28×28 and 32×32
 * inputs). PyTorch pads stride-2 convs symmetrically and TF's 'same' does not (it pads bottom/right
 * only), so each conv is ZeroPadding2D(1) + 'valid'. PyTorch's default init: kernels
 * uniform(±1/√fan_in) = varianceScaling(1/3, fanIn, uniform) (kaiming_uniform, a = √5), biases
 * U(±1/√fan_in). Outputs logits (the ReLU'd, pooled scores): the sample trains them with
 * log_softmax + NLL, i.e. softmax cross-entropy on logits.
 */
export function ptMnistSample({
  conv,
  inputShape,
  numClasses,
  seed,
}: ZooBuilderOptions): tf.LayersModel {
  const init = new SeededInitializers(seed);
  const input = tf.input({ shape: inputShape, name: 'input' });
  let y = input;
  let inChannels = inputShape[2];
  for (const [i, filters] of [16, 16, numClasses].entries()) {
    const fanIn = inChannels * 3 * 3;
    y = apply(tf.layers.zeroPadding2d({ padding: 1, name: `pad${i + 1}` }), y);
    y = apply(
      conv.conv2d({
        filters,
        kernelSize: 3,
        strides: 2,
        padding: 'valid',
        activation: 'relu',
        kernelInitializer: init.varianceScalingUniform(1 / 3, 'fanIn'),
        biasInitializer: init.uniform(1 / Math.sqrt(fanIn)),
        name: `conv${i + 1}`,
      }),
      y,
    );
    inChannels = filters;
  }
  y = apply(tf.layers.globalAveragePooling2d({ name: 'pool' }), y);
  return tf.model({ inputs: input, outputs: y, name: 'pt-mnist-sample' });
}

/**
 * The GluonCV sample (LeNet): Conv(20, 5×5) tanh → MaxPool 2 → Conv(50, 5×5) tanh → MaxPool 2 →
 * Flatten → Dense(500, tanh) → Dense(numClasses, tanh). Valid padding. Init Xavier(magnitude 2.24) =
 * varianceScaling(2.24/3, fanAvg, uniform) on every weight, zero biases (MXNet's Xavier leaves biases
 * at zero). Outputs logits: the tanh-bounded scores the sample feeds to SoftmaxCrossEntropyLoss.
 * Needs inputs of at least 16×16.
 */
export function gluonLenet({
  conv,
  inputShape,
  numClasses,
  seed,
}: ZooBuilderOptions): tf.LayersModel {
  const init = new SeededInitializers(seed);
  const xavier = () => init.varianceScalingUniform(2.24 / 3, 'fanAvg');
  const input = tf.input({ shape: inputShape, name: 'input' });
  let y = apply(
    conv.conv2d({
      filters: 20,
      kernelSize: 5,
      activation: 'tanh',
      kernelInitializer: xavier(),
      name: 'conv1',
    }),
    input,
  );
  y = apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }), y);
  y = apply(
    conv.conv2d({
      filters: 50,
      kernelSize: 5,
      activation: 'tanh',
      kernelInitializer: xavier(),
      name: 'conv2',
    }),
    y,
  );
  y = apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool2' }), y);
  y = apply(tf.layers.flatten({ name: 'flatten' }), y);
  y = apply(
    tf.layers.dense({
      units: 500,
      activation: 'tanh',
      kernelInitializer: xavier(),
      name: 'dense1',
    }),
    y,
  );
  y = apply(
    tf.layers.dense({
      units: numClasses,
      activation: 'tanh',
      kernelInitializer: xavier(),
      name: 'dense2',
    }),
    y,
  );
  return tf.model({ inputs: input, outputs: y, name: 'gluon-lenet' });
}
