/**
 * A CenterNet-style anchor-free detector (Zhou et al. 2019, "Objects as Points") on a MobileNet-style
 * backbone, small enough for `mnist-scenes` (~11 MMAC forward on 64×64×1): depthwise-separable
 * blocks down to output stride 8, one top-down merge back to stride 4 (bilinear ×2 + concat + 1×1),
 * and three heads on the stride-4 map: a class heatmap (logits; sigmoid gives each cell's
 * probability of being an object centre), the box size and the centre's sub-cell offset, both in
 * output cells. The heads are concatenated into one output [H/4, W/4, numClasses + 4] so the
 * trainer, the worker threads, fold and the ONNX export see one tensor; `splitDetectionHeads` and
 * `decodeDetections` take it apart. Every 3×3 conv and depthwise conv comes from the factory.
 */
import * as tf from '@tensorflow/tfjs';
import { apply, batchNorm, relu } from './graph.js';
import { SeededInitializers } from './initializers.js';
import type { ZooBuilderOptions } from './types.js';
import { formatValue } from '../util/formatValue.js';

/** Input pixels per heatmap cell. */
export const CENTERNET_OUTPUT_STRIDE = 4;

/**
 * The heatmap bias starts at −log((1 − π)/π) with π = 0.1 (focal loss paper's prior; CenterNet uses
 * −2.19), so the first steps are not swamped by the loss of the many background cells.
 */
export const HEATMAP_PRIOR_BIAS = -2.19;

/** The builder: `zooModels['centernet-mini']`. numClasses counts object classes (no background). */
export function centerNetMini(options: ZooBuilderOptions): tf.LayersModel {
  const [h, w] = options.inputShape;
  if (h % 8 !== 0 || w % 8 !== 0) {
    throw new Error(
      `centernet-mini: inputShape height and width must be multiples of 8, got ${formatValue(options.inputShape)}`,
    );
  }
  const init = new SeededInitializers(options.seed);
  const conv = (x: tf.SymbolicTensor, filters: number, k: number, name: string, strides = 1) =>
    apply(
      relu(`${name}_relu`),
      apply(
        batchNorm(`${name}_bn`),
        apply(
          options.conv.conv2d({
            filters,
            kernelSize: k,
            strides,
            padding: 'same',
            useBias: false,
            kernelInitializer: init.glorotUniform(),
            name,
          }),
          x,
        ),
      ),
    );
  const separable = (x: tf.SymbolicTensor, filters: number, name: string, strides = 1) => {
    const dw = options.conv.depthwiseConv2d({
      kernelSize: 3,
      strides,
      padding: 'same',
      useBias: false,
      depthwiseInitializer: init.glorotUniform(),
      name: `${name}_dw`,
    });
    const y = apply(relu(`${name}_dw_relu`), apply(batchNorm(`${name}_dw_bn`), apply(dw, x)));
    return conv(y, filters, 1, `${name}_pw`);
  };

  const input = tf.input({ shape: options.inputShape, name: 'input' });
  let y = conv(input, 16, 3, 'stem', 2); // stride 2
  y = separable(y, 32, 'b1');
  y = separable(y, 48, 'b2', 2); // stride 4
  const c4 = separable(y, 48, 'b3');
  y = separable(c4, 96, 'b4', 2); // stride 8
  y = separable(y, 96, 'b5');
  y = apply(tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: 'up' }), y);
  y = apply(tf.layers.concatenate({ name: 'merge' }), [y, c4]);
  y = conv(y, 64, 1, 'merge_pw');
  y = separable(y, 64, 'b6');

  const trunk = options.conv.conv2d({
    filters: 32,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
    kernelInitializer: init.glorotUniform(),
    name: 'head_conv',
  });
  const t = apply(trunk, y);
  const head = (filters: number, name: string, bias?: number) =>
    apply(
      options.conv.conv2d({
        filters,
        kernelSize: 1,
        kernelInitializer: init.glorotUniform(),
        biasInitializer: bias === undefined ? 'zeros' : tf.initializers.constant({ value: bias }),
        name,
      }),
      t,
    );
  const heads = [
    head(options.numClasses, 'heatmap', HEATMAP_PRIOR_BIAS),
    head(2, 'size'),
    head(2, 'offset'),
  ];
  const out = apply(tf.layers.concatenate({ name: 'heads' }), heads);
  return tf.model({ inputs: input, outputs: out, name: 'centernet-mini' });
}
