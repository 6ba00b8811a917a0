/**
 * CIFAR ResNets (He et al. 2016, §4.2): a 3×3 conv with 16 filters, three stages of n basic blocks
 * with 16, 32 and 64 filters (the first block of stages 2 and 3 has stride 2), global average pool
 * and a dense layer; depth = 6n + 2. As in GluonCV's CIFAR ResNets, a block whose shape changes takes
 * a projection shortcut (1×1 conv with the block's stride, + BN in v1). Unlike GluonCV, no
 * BatchNorm is put on the raw input (He et al. have none). Stride-2 convs use TF's 'same' padding.
 * Every conv has no bias; a conv followed by BN has a linear activation, so foldModel can fuse them.
 * Init: glorot-uniform kernels (Gluon's Xavier(), GluonCV's CIFAR training default), BN at identity,
 * zero dense bias. Outputs logits.
 */
import * as tf from '@tensorflow/tfjs';
import { apply, batchNorm, relu } from './graph.js';
import { SeededInitializers } from './initializers.js';
import type { ZooBuilder, ZooBuilderOptions } from './types.js';

/** Which of the three CIFAR residual nets to build. */
export interface CifarResNetConfig {
  /** 6n + 2: 20, 32, 56, ... */
  depth: number;
  /** 'v1': conv-BN-ReLU, add, ReLU. 'v2': pre-activation BN-ReLU-conv. 'plain': v1 without shortcuts. */
  variant: 'v1' | 'v2' | 'plain';
}

const STAGE_FILTERS = [16, 32, 64];
const MODEL_PREFIX = { v1: 'resnet', v2: 'preresnet', plain: 'plain' } as const;

/** A CIFAR ResNet builder for the given depth and variant. */
export function cifarResNet({ depth, variant }: CifarResNetConfig): ZooBuilder {
  if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
    throw new Error(
      `cifarResNet: depth must be 6n + 2 with n ≥ 1 (8, 14, 20, ...), got ${JSON.stringify(depth)}`,
    );
  }
  const blocks = (depth - 2) / 6;
  const modelName = `${MODEL_PREFIX[variant]}-${depth}`;
  return (options) => buildCifarResNet(options, blocks, variant, modelName);
}

function buildCifarResNet(
  { conv, inputShape, numClasses, seed }: ZooBuilderOptions,
  blocks: number,
  variant: CifarResNetConfig['variant'],
  modelName: string,
): tf.LayersModel {
  const init = new SeededInitializers(seed);
  const convLayer = (
    x: tf.SymbolicTensor,
    filters: number,
    kernelSize: number,
    strides: number,
    name: string,
  ) =>
    apply(
      conv.conv2d({
        filters,
        kernelSize,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: init.glorotUniform(),
        name,
      }),
      x,
    );

  const input = tf.input({ shape: inputShape, name: 'input' });
  let y = convLayer(input, STAGE_FILTERS[0], 3, 1, 'stem_conv');
  // v2 leaves the stem un-normalised: the first block's BN-ReLU pre-activates it.
  if (variant !== 'v2') y = apply(relu('stem_relu'), apply(batchNorm('stem_bn'), y));
  let channels = STAGE_FILTERS[0];

  STAGE_FILTERS.forEach((filters, stage) => {
    for (let block = 0; block < blocks; block++) {
      const p = `s${stage + 1}b${block + 1}_`;
      const strides = stage > 0 && block === 0 ? 2 : 1;
      const project = strides !== 1 || channels !== filters;
      if (variant === 'v2') {
        const pre = apply(relu(`${p}relu1`), apply(batchNorm(`${p}bn1`), y));
        const shortcut = project ? convLayer(pre, filters, 1, strides, `${p}proj`) : y;
        let r = convLayer(pre, filters, 3, strides, `${p}conv1`);
        r = apply(relu(`${p}relu2`), apply(batchNorm(`${p}bn2`), r));
        r = convLayer(r, filters, 3, 1, `${p}conv2`);
        y = apply(tf.layers.add({ name: `${p}add` }), [r, shortcut]);
      } else {
        let r = convLayer(y, filters, 3, strides, `${p}conv1`);
        r = apply(relu(`${p}relu1`), apply(batchNorm(`${p}bn1`), r));
        r = apply(batchNorm(`${p}bn2`), convLayer(r, filters, 3, 1, `${p}conv2`));
        if (variant === 'v1') {
          const shortcut = project
            ? apply(batchNorm(`${p}proj_bn`), convLayer(y, filters, 1, strides, `${p}proj`))
            : y;
          r = apply(tf.layers.add({ name: `${p}add` }), [r, shortcut]);
        }
        y = apply(relu(`${p}relu2`), r);
      }
      channels = filters;
    }
  });

  if (variant === 'v2') y = apply(relu('final_relu'), apply(batchNorm('final_bn'), y));
  y = apply(tf.layers.globalAveragePooling2d({ name: 'pool' }), y);
  y = apply(
    tf.layers.dense({ units: numClasses, kernelInitializer: init.glorotUniform(), name: 'logits' }),
    y,
  );
  return tf.model({ inputs: input, outputs: y, name: modelName });
}
