import * as tf from '@tensorflow/tfjs';
import { convAxes, type Pair } from '../convGeometry.js';

type Shape4 = [number, number, number, number];

/**
 * The attrs the four wasm backprop kernels read, checked, as the conv's two spatial axes. `xShape`
 * is the forward input's shape (x, or the inputShape attr), `filterShape` the filter's.
 */
export function backpropAxes(
  kernelName: string,
  attrs: tf.NamedAttrMap,
  xShape: readonly number[],
  filterShape: readonly number[],
  depthwise: boolean,
): ReturnType<typeof convAxes> {
  const { strides, pad, dataFormat, dimRoundingMode } =
    attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  let dilations = attrs.dilations as number | Pair;
  if (!depthwise) {
    // Not a TF.js attr of the Conv2D backprops (its conv2d gradient refuses dilations); honoured
    // if a caller passes it.
    dilations ??= 1;
    // The depthwise kernels have no dataFormat attr.
    if (dataFormat !== 'NHWC') {
      throw new Error(
        `doconv ${kernelName} on wasm: dataFormat must be 'NHWC', got ${JSON.stringify(dataFormat)}`,
      );
    }
  }
  return convAxes(
    xShape as Shape4,
    filterShape as Shape4,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
    kernelName,
  );
}
