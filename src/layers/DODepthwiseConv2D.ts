import * as tf from '@tensorflow/tfjs';
import { DOConvBase, type DOArgs, type DOKernelSpec } from './DOConvBase.js';
import { depthwiseConv2dArgs, type DepthwiseConv2DLayerArgs } from './standardConvArgs.js';
import { checkArgsObject, positiveInt } from './validateArgs.js';
import { formatValue } from '../util/formatValue.js';

/** Args of {@link DODepthwiseConv2D}: those of tf.layers.depthwiseConv2d, plus DO-Conv's. */
export interface DODepthwiseConv2DArgs extends DepthwiseConv2DLayerArgs, DOArgs {}

/**
 * DO-DConv as a drop-in for tf.layers.depthwiseConv2d. Weights: `depthwise_kernel`
 * [dMul, inCh, depthMultiplier], `D` [M·N, dMul, inCh] (only when M·N > 1), `bias`
 * [inCh·depthMultiplier]. Output channel c·depthMultiplier + q reads input channel c.
 * Unlike tf.layers.depthwiseConv2d in tfjs 4.22, dilationRate is honoured.
 */
export class DODepthwiseConv2D extends DOConvBase {
  static className = 'DODepthwiseConv2D';
  readonly depthMultiplier: number;

  constructor(args: DODepthwiseConv2DArgs) {
    super(checkArgsObject('DODepthwiseConv2D', args), depthwiseConv2dArgs(args));
    if ((args as { groups?: unknown }).groups !== undefined) {
      throw new Error(
        `DODepthwiseConv2D has no 'groups' (it is depthwise: one group per input channel), got groups ` +
          `${formatValue((args as { groups?: unknown }).groups)}; use doConv2d({groups}) for DO-GConv`,
      );
    }
    this.depthMultiplier = positiveInt('depthMultiplier', args.depthMultiplier ?? 1);
    this.checkWeightSizes(1);
  }

  protected kernelSpec(inChannels: number): DOKernelSpec {
    return {
      inChannels,
      kernelName: 'depthwise_kernel',
      kernelShape: [this.dMul, inChannels, this.depthMultiplier],
      groups: inChannels,
      filters: inChannels * this.depthMultiplier,
    };
  }

  protected compositionWeight(kernel: tf.Tensor): tf.Tensor3D {
    return depthwiseCompositionWeight(kernel);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return this.doConfig();
  }
}
tf.serialization.registerClass(DODepthwiseConv2D);

/** A depthwise W [dMul, C, mult] in the composition layout [dMul, 1, C·mult] (groups = C). */
export function depthwiseCompositionWeight(kernel: tf.Tensor): tf.Tensor3D {
  // The two share memory order: output c·mult + q reads input channel c.
  const [dMul, channels, mult] = kernel.shape;
  return tf.reshape(kernel, [dMul, 1, channels * mult]);
}

/** Factory in the style of tf.layers.depthwiseConv2d. */
export function doDepthwiseConv2d(args: DODepthwiseConv2DArgs): DODepthwiseConv2D {
  return new DODepthwiseConv2D(args);
}
