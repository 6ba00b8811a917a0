/**
 * Gradients of dilated convs on doconv's engine (wasm, doconv-native). tfjs-core's Conv2D and
 * DepthwiseConv2dNative gradients refuse dilations > 1 ("not yet supported"); doconv's wasm backprop
 * kernels and the native ones take a `dilations` attribute, so there a dilated conv trains:
 *   dx = Conv2DBackpropInput(dy, w; s, d),  dw = Conv2DBackpropFilter(x, dy; s, d).
 * Undilated convs and other backends keep tfjs-core's gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { DILATED_GRADIENT_MARK, ENGINE_BACKENDS } from '../../util/dilatedConvGradients.js';
import type { GradientReplacement } from './gradientReplacement.js';

type Pair = [number, number];
const isDilated = (d: number | Pair | undefined) =>
  d != null && (typeof d === 'number' ? d > 1 : d[0] > 1 || d[1] > 1);

function dilatedGrad(
  kernelName: string,
  backpropInput: string,
  backpropFilter: string,
): GradientReplacement {
  return {
    kernelName,
    // Marked so the layers can tell that dilated convs train directly (util/dilatedConvGradients.ts).
    replace: (original) =>
      markDilated({
        kernelName,
        inputsToSave: ['x', 'filter'],
        gradFunc: (dy, saved, attrs) => {
          const a = attrs as unknown as tf.Conv2DAttrs;
          if (!ENGINE_BACKENDS.includes(tf.getBackend()) || !isDilated(a.dilations)) {
            return original.gradFunc(dy, saved, attrs);
          }
          const [x, filter] = saved;
          const common = {
            strides: a.strides,
            pad: a.pad,
            dataFormat: a.dataFormat ?? 'NHWC',
            dimRoundingMode: a.dimRoundingMode,
            dilations: a.dilations,
          };
          return {
            x: () =>
              tf.engine().runKernel(backpropInput, { dy: dy as tf.Tensor, filter }, {
                ...common,
                inputShape: x.shape,
              } as unknown as tf.NamedAttrMap) as tf.Tensor,
            filter: () =>
              tf.engine().runKernel(backpropFilter, { x, dy: dy as tf.Tensor }, {
                ...common,
                filterShape: filter.shape,
              } as unknown as tf.NamedAttrMap) as tf.Tensor,
          };
        },
      }),
  };
}

function markDilated(config: tf.GradConfig): tf.GradConfig {
  return Object.assign(config, { [DILATED_GRADIENT_MARK]: true });
}

export const dilatedConv2DGrad = dilatedGrad(
  tf.Conv2D,
  tf.Conv2DBackpropInput,
  tf.Conv2DBackpropFilter,
);
export const dilatedDepthwiseConv2dGrad = dilatedGrad(
  tf.DepthwiseConv2dNative,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.DepthwiseConv2dNativeBackpropFilter,
);
