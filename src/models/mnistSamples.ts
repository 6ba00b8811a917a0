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
export function tfMnistSample(opts: ZooBuilderOptions): tf.LayersModel {
  const { conv, numClasses } = opts;
  const { init, input } = sampleInput(opts);
  let y = input;
  for (const [filters, name] of [
    [32, 'conv1'],
    [8, 'conv2'],
  ] as const) {
    const kernelInitializer = init.glorotUniform();
    y = apply(
      conv.conv2d({ filters, kernelSize: 3, activation: 'relu', kernelInitializer, name }),
      y,
    );
  }
  y = apply(tf.layers.flatten({ name: 'flatten' }), y);
  const kernelInitializer = init.glorotUniform();
  y = apply(
    tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer, name: 'dense' }),
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
export function ptMnistSample(opts: ZooBuilderOptions): tf.LayersModel {
  const { conv, numClasses } = opts;
  const { init, input } = sampleInput(opts);
  let y = input;
  let inChannels = opts.inputShape[2];
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
export function gluonLenet(opts: ZooBuilderOptions): tf.LayersModel {
  const { conv, numClasses } = opts;
  const { init, input } = sampleInput(opts);
  const xavier = () => init.varianceScalingUniform(2.24 / 3, 'fanAvg');
  let y = input;
  for (const [filters, i] of [
    [20, 1],
    [50, 2],
  ] as const) {
    const kernelInitializer = xavier();
    y = apply(
      conv.conv2d({
        filters,
        kernelSize: 5,
        activation: 'tanh',
        kernelInitializer,
        name: `conv${i}`,
      }),
      y,
    );
    y = apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i}` }), y);
  }
  y = apply(tf.layers.flatten({ name: 'flatten' }), y);
  for (const [units, i] of [
    [500, 1],
    [numClasses, 2],
  ] as const) {
    const kernelInitializer = xavier();
    y = apply(
      tf.layers.dense({ units, activation: 'tanh', kernelInitializer, name: `dense${i}` }),
      y,
    );
  }
  return tf.model({ inputs: input, outputs: y, name: 'gluon-lenet' });
}

/** The input every sample starts from, and the initialisers seeded by the model seed. */
function sampleInput({ inputShape, seed }: ZooBuilderOptions): {
  init: SeededInitializers;
  input: tf.SymbolicTensor;
} {
  const init = new SeededInitializers(seed);
  return { init, input: tf.input({ shape: inputShape, name: 'input' }) };
}
