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
const V1_BLOCKS: [number, number][] = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

/** MobileNet-v2 stages: [expansion t, output channels c, repeats n, first stride s] (paper Table 2; s of stage 2 is 1 here). */
const V2_STAGES: [number, number, number, number][] = [
  [1, 16, 1, 1], [6, 24, 2, 1], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];

type ConvBn = (x: tf.SymbolicTensor, name: string) => tf.SymbolicTensor;

/** conv → BN helpers sharing one initializer sequence, so twins get the same seeds in the same order. */
function convBnHelpers({ conv, seed }: ZooBuilderOptions) {
  const init = new SeededInitializers(seed);
  const bn = (x: tf.SymbolicTensor, name: string) => apply(batchNorm(`${name}_bn`), x);
  return {
    init,
    conv: (filters: number, kernelSize: number, strides: number): ConvBn => (x, name) =>
      bn(apply(conv.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: init.glorotUniform(), name }), x), name),
    depthwise: (strides: number): ConvBn => (x, name) =>
      bn(apply(conv.depthwiseConv2d({ kernelSize: 3, strides, padding: 'same', useBias: false, depthwiseInitializer: init.glorotUniform(), name }), x), name),
  };
}

function head(x: tf.SymbolicTensor, numClasses: number, init: SeededInitializers): tf.SymbolicTensor {
  const y = apply(tf.layers.globalAveragePooling2d({ name: 'pool' }), x);
  return apply(tf.layers.dense({ units: numClasses, kernelInitializer: init.glorotUniform(), name: 'logits' }), y);
}

/** MobileNet-v1 (Howard et al. 2017): conv 3×3 32 → 13 depthwise-separable blocks (ReLU) → pool → dense. */
export function mobileNetV1(options: ZooBuilderOptions): tf.LayersModel {
  const { init, conv, depthwise } = convBnHelpers(options);
  const input = tf.input({ shape: options.inputShape, name: 'input' });
  let y = apply(relu('stem_relu'), conv(32, 3, 1)(input, 'stem_conv'));
  V1_BLOCKS.forEach(([filters, strides], i) => {
    const p = `b${i + 1}_`;
    y = apply(relu(`${p}dw_relu`), depthwise(strides)(y, `${p}dw`));
    y = apply(relu(`${p}pw_relu`), conv(filters, 1, 1)(y, `${p}pw`));
  });
  return tf.model({ inputs: input, outputs: head(y, options.numClasses, init), name: 'mobilenet-v1' });
}

/**
 * MobileNet-v2 (Sandler et al. 2018): conv 3×3 32 → inverted residual blocks (1×1 expand, ReLU6 →
 * depthwise 3×3, ReLU6 → 1×1 linear projection; no expansion conv when t = 1; identity residual when
 * stride 1 and channels unchanged) → 1×1 conv 1280, ReLU6 → pool → dense.
 */
export function mobileNetV2(options: ZooBuilderOptions): tf.LayersModel {
  const { init, conv, depthwise } = convBnHelpers(options);
  const input = tf.input({ shape: options.inputShape, name: 'input' });
  let y = apply(relu('stem_relu', 6), conv(32, 3, 1)(input, 'stem_conv'));
  let channels = 32;
  let index = 0;
  for (const [t, c, n, s] of V2_STAGES) {
    for (let r = 0; r < n; r++) {
      const p = `b${++index}_`;
      const strides = r === 0 ? s : 1;
      let h = y;
      if (t !== 1) h = apply(relu(`${p}expand_relu`, 6), conv(channels * t, 1, 1)(h, `${p}expand`));
      h = apply(relu(`${p}dw_relu`, 6), depthwise(strides)(h, `${p}dw`));
      h = conv(c, 1, 1)(h, `${p}project`);
      y = strides === 1 && channels === c ? apply(tf.layers.add({ name: `${p}add` }), [y, h]) : h;
      channels = c;
    }
  }
  y = apply(relu('head_relu', 6), conv(1280, 1, 1)(y, 'head_conv'));
  return tf.model({ inputs: input, outputs: head(y, options.numClasses, init), name: 'mobilenet-v2' });
}
