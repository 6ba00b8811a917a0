import * as tf from '@tensorflow/tfjs';
import { convolve } from '../algebra/convolve.js';
import { DOConvBase, type DOArgs, type DOKernelSpec } from './DOConvBase.js';
import { depthwiseCompositionWeight } from './DODepthwiseConv2D.js';
import { separableConv2dArgs, type SeparableConv2DLayerArgs } from './standardConvArgs.js';
import { checkArgsObject, positiveInt } from './validateArgs.js';
import type { LayerConvolution } from './convLayer.js';
import { formatValue } from '../util/formatValue.js';

/** Args of {@link DOSeparableConv2D}: those of tf.layers.separableConv2d, plus DO-Conv's. */
export interface DOSeparableConv2DArgs extends SeparableConv2DLayerArgs, DOArgs {}

/**
 * A SeparableConv2D whose depthwise part is DO-DConv: y = act(pointwise(DO-DConv(x)) + b), the
 * DO-DConv without bias or activation. Weights: `depthwise_kernel` [dMul, inCh, depthMultiplier] and
 * `D` [M·N, dMul, inCh] (only when M·N > 1) as DODepthwiseConv2D's, then tf.layers.separableConv2d's
 * `pointwise_kernel` [1, 1, inCh·depthMultiplier, filters] and `bias` [filters]. `foldModel` turns it
 * into a SeparableConv2D with the composed depthwise kernel.
 */
export class DOSeparableConv2D extends DOConvBase {
  static className = 'DOSeparableConv2D';
  readonly filters: number;
  readonly depthMultiplier: number;
  private pointwise: tf.LayerVariable | null = null;

  constructor(args: DOSeparableConv2DArgs) {
    super(checkArgsObject('DOSeparableConv2D', args), separableConv2dArgs(args));
    this.filters = positiveInt('filters', args.filters);
    this.depthMultiplier = positiveInt('depthMultiplier', args.depthMultiplier ?? 1);
    if ((args as { groups?: unknown }).groups !== undefined) {
      throw new Error(
        `DOSeparableConv2D has no 'groups' (its depthwise part has one group per input channel), got ` +
          `groups ${formatValue((args as { groups?: unknown }).groups)}`,
      );
    }
    this.checkWeightSizes(1);
  }

  protected kernelSpec(inChannels: number): DOKernelSpec {
    return {
      inChannels,
      kernelName: 'depthwise_kernel',
      kernelShape: [this.dMul, inChannels, this.depthMultiplier],
      groups: inChannels,
      filters: this.filters,
    };
  }

  protected compositionWeight(kernel: tf.Tensor): tf.Tensor3D {
    return depthwiseCompositionWeight(kernel);
  }

  protected override moreWeightShapes(inChannels: number): Record<string, number[]> {
    return { pointwise_kernel: [1, 1, inChannels * this.depthMultiplier, this.filters] };
  }

  protected override buildMoreWeights(inChannels: number): void {
    const pointwise = this.standard.pointwise!;
    this.pointwise = this.addWeight(
      'pointwise_kernel',
      [1, 1, inChannels * this.depthMultiplier, this.filters],
      'float32',
      pointwise.initializer,
      pointwise.regularizer,
      true,
      pointwise.constraint,
    );
  }

  /** The pointwise kernel [1, 1, inCh·depthMultiplier, filters], once built. */
  pointwiseKernel(): tf.Tensor4D {
    if (!this.pointwise) throw new Error(`${this.name}: layer is not built yet`);
    return this.pointwise.read() as tf.Tensor4D;
  }

  /** The DO-DConv (strides, dilation), then the 1×1 conv with the bias and activation. */
  protected override convolution(): LayerConvolution {
    const depthwise = super.convolution();
    const pointwise = this.pointwiseKernel();
    return (x, options) =>
      convolve(depthwise(x, { ...options, bias: null, activation: 'linear' }), pointwise, {
        strides: [1, 1],
        padding: 'valid',
        dilationRate: [1, 1],
        groups: 1,
        bias: options.bias,
        activation: options.activation,
      });
  }

  override getConfig(): tf.serialization.ConfigDict {
    // tfjs 4.22's SeparableConv2D.getConfig leaves depthMultiplier out (its reloaded layer has 1).
    return { ...this.doConfig(), depthMultiplier: this.depthMultiplier };
  }
}
tf.serialization.registerClass(DOSeparableConv2D);

/** Factory in the style of tf.layers.separableConv2d. */
export function doSeparableConv2d(args: DOSeparableConv2DArgs): DOSeparableConv2D {
  return new DOSeparableConv2D(args);
}
