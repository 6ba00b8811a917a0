/**
 * The two benchmark nets, each built from an injected conv factory so Conv and DO-Conv (and any
 * future variant) share one definition. Kept in bench/ (not the model zoo): these exist to be timed
 * against bench/torch_train.py, which defines the same nets layer for layer.
 */
import * as tf from '@tensorflow/tfjs';

export type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
export type ConvFactory = (args: ConvArgs) => tf.layers.Layer;

export interface NetSpec {
  name: string;
  inputShape: [number, number, number];
  classes: number;
  batch: number;
  build: (conv: ConvFactory) => tf.LayersModel;
}

/** The official TF.js MNIST sample net: conv 32 3×3 relu → conv 8 3×3 relu → flatten → dense 10. */
export const mnistSample: NetSpec = {
  name: 'mnist-sample',
  inputShape: [28, 28, 1],
  classes: 10,
  batch: 32,
  build: (conv) => {
    const input = tf.input({ shape: [28, 28, 1] });
    let y = conv({ filters: 32, kernelSize: 3, activation: 'relu' }).apply(
      input,
    ) as tf.SymbolicTensor;
    y = conv({ filters: 8, kernelSize: 3, activation: 'relu' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
    y = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(y) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: y });
  },
};

/**
 * ResNet-20 for CIFAR (He et al. 2016, §4.2): 16-32-64 channels, 3 blocks per stage, BN after every
 * conv, projection shortcut (1×1 conv stride 2 + BN) where the shape changes, global average pool.
 */
export const resnet20: NetSpec = {
  name: 'resnet20',
  inputShape: [32, 32, 3],
  classes: 10,
  batch: 128,
  build: (conv) => {
    const bn = (x: tf.SymbolicTensor) =>
      tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(x) as tf.SymbolicTensor;
    const relu = (x: tf.SymbolicTensor) => tf.layers.reLU().apply(x) as tf.SymbolicTensor;
    const c = (x: tf.SymbolicTensor, filters: number, kernelSize: number, strides: number) =>
      conv({ filters, kernelSize, strides, padding: 'same', useBias: false }).apply(
        x,
      ) as tf.SymbolicTensor;

    const input = tf.input({ shape: [32, 32, 3] });
    let y = relu(bn(c(input, 16, 3, 1)));
    for (const [stage, filters] of [16, 32, 64].entries()) {
      for (let block = 0; block < 3; block++) {
        const strides = stage > 0 && block === 0 ? 2 : 1;
        let r = relu(bn(c(y, filters, 3, strides)));
        r = bn(c(r, filters, 3, 1));
        const shortcut = strides === 1 ? y : bn(c(y, filters, 1, strides));
        y = relu(tf.layers.add().apply([r, shortcut]) as tf.SymbolicTensor);
      }
    }
    y = tf.layers.globalAveragePooling2d({}).apply(y) as tf.SymbolicTensor;
    y = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(y) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: y });
  },
};

export const nets: Record<string, NetSpec> = {
  [mnistSample.name]: mnistSample,
  [resnet20.name]: resnet20,
};
