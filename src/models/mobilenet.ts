/**
 * CIFAR-sized MobileNets (the common CIFAR adaptation, e.g. kuangliu/pytorch-cifar): the stem conv
 * has stride 1 instead of 2 and, in v2, the second stage stride 1 instead of 2, so a 32×32 input ends
 * on a 2×2 (v1) or 4×4 (v2) map instead of 1×1; width multiplier 1. Every depthwise 3×3 conv comes
 * from the factory (DO-DConv under 'doconv'); pointwise 1×1 convs stay plain. Convs have no bias and
 * a linear activation, each followed by BN, so foldModel can fuse them. Init: glorot-uniform (Keras's
 * default), BN at identity. Outputs logits.
 */
import * as tf from '@tensorflow/tfjs';
import { apply, batchNorm, relu } from './graph.js';
import { SeededInitializers } from './initializers.js';
import type { ZooBuilderOptions } from './types.js';

/** MobileNet-v1 blocks: [pointwise filters, depthwise stride] (paper Table 1, first stride 1 here). */
// prettier-ignore
const V1_BLOCKS: [number, number][] = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

/** MobileNet-v2 stages: [expansion t, output channels c, repeats n, first stride s] (paper Table 2; s of stage 2 is 1 here). */
// prettier-ignore
const V2_STAGES: [number, number, number, number][] = [
  [1, 16, 1, 1], [6, 24, 2, 1], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];

/**
 * conv → BN and depthwise → BN, sharing one initializer sequence so twins get the same seeds in the
 * same order. Activations are applied by the caller (ReLU in v1, ReLU6 in v2, none after projections).
 */
class ConvBn {
  readonly init: SeededInitializers;

  constructor(private readonly options: ZooBuilderOptions) {
    this.init = new SeededInitializers(options.seed);
  }

  conv(x: tf.SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string) {
    const layer = this.options.conv.conv2d({
      filters,
      kernelSize,
      strides,
      padding: 'same',
      useBias: false,
      kernelInitializer: this.init.glorotUniform(),
      name,
    });
    return apply(batchNorm(`${name}_bn`), apply(layer, x));
  }

  depthwise(x: tf.SymbolicTensor, strides: number, name: string) {
    const layer = this.options.conv.depthwiseConv2d({
      kernelSize: 3,
      strides,
      padding: 'same',
      useBias: false,
      depthwiseInitializer: this.init.glorotUniform(),
      name,
    });
    return apply(batchNorm(`${name}_bn`), apply(layer, x));
  }
}

function head(
  x: tf.SymbolicTensor,
  numClasses: number,
  init: SeededInitializers,
): tf.SymbolicTensor {
  const y = apply(tf.layers.globalAveragePooling2d({ name: 'pool' }), x);
  const dense = tf.layers.dense({
    units: numClasses,
    kernelInitializer: init.glorotUniform(),
    name: 'logits',
  });
  return apply(dense, y);
}

/** MobileNet-v1 (Howard et al. 2017): conv 3×3 32 → 13 depthwise-separable blocks (ReLU) → pool → dense. */
export function mobileNetV1(options: ZooBuilderOptions): tf.LayersModel {
  const layers = new ConvBn(options);
  const input = tf.input({ shape: options.inputShape, name: 'input' });
  let y = apply(relu('stem_relu'), layers.conv(input, 32, 3, 1, 'stem_conv'));
  V1_BLOCKS.forEach(([filters, strides], i) => {
    const p = `b${i + 1}_`;
    y = apply(relu(`${p}dw_relu`), layers.depthwise(y, strides, `${p}dw`));
    y = apply(relu(`${p}pw_relu`), layers.conv(y, filters, 1, 1, `${p}pw`));
  });
  return tf.model({
    inputs: input,
    outputs: head(y, options.numClasses, layers.init),
    name: 'mobilenet-v1',
  });
}

/**
 * MobileNet-v2 (Sandler et al. 2018): conv 3×3 32 → inverted residual blocks (1×1 expand, ReLU6 →
 * depthwise 3×3, ReLU6 → 1×1 linear projection; no expansion conv when t = 1; identity residual when
 * stride 1 and channels unchanged) → 1×1 conv 1280, ReLU6 → pool → dense.
 */
export function mobileNetV2(options: ZooBuilderOptions): tf.LayersModel {
  const layers = new ConvBn(options);
  const input = tf.input({ shape: options.inputShape, name: 'input' });
  let y = apply(relu('stem_relu', 6), layers.conv(input, 32, 3, 1, 'stem_conv'));
  let channels = 32;
  let index = 0;
  for (const [t, c, n, s] of V2_STAGES) {
    for (let r = 0; r < n; r++) {
      const p = `b${++index}_`;
      const strides = r === 0 ? s : 1;
      let h = y;
      if (t !== 1)
        h = apply(relu(`${p}expand_relu`, 6), layers.conv(h, channels * t, 1, 1, `${p}expand`));
      h = apply(relu(`${p}dw_relu`, 6), layers.depthwise(h, strides, `${p}dw`));
      h = layers.conv(h, c, 1, 1, `${p}project`);
      y = strides === 1 && channels === c ? apply(tf.layers.add({ name: `${p}add` }), [y, h]) : h;
      channels = c;
    }
  }
  y = apply(relu('head_relu', 6), layers.conv(y, 1280, 1, 1, 'head_conv'));
  return tf.model({
    inputs: input,
    outputs: head(y, options.numClasses, layers.init),
    name: 'mobilenet-v2',
  });
}
