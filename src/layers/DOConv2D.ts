import * as tf from '@tensorflow/tfjs';
import { DOConvBase, type DOArgs, type DOKernelSpec } from './DOConvBase.js';
import type { Conv2DLayerArgs } from './standardConvArgs.js';
import { positiveInt } from './validateArgs.js';

/** Args of {@link DOConv2D}: those of tf.layers.conv2d, plus DO-Conv's. */
export interface DOConv2DArgs extends Conv2DLayerArgs, DOArgs {
  /**
   * Convolution groups g (default 1). 1: DO-Conv; inCh: DO-DConv (depthwise, filters = inCh·multiplier);
   * between: DO-GConv. g must divide both the input channels and `filters`.
   */
  groups?: number;
}

/**
 * DO-Conv: a Conv2D whose kernel is the composition of a depthwise kernel D (D_diag at init, so it
 * starts as a plain conv) and a conv kernel W. Weights, named as in the official Keras `DOConv2D`:
 * `kernel` [dMul, inCh/g, filters], `D` [M·N, dMul, inCh] (only when M·N > 1), `bias` [filters].
 * After training, `foldModel` turns it into a plain Conv2D with the same outputs.
 */
export class DOConv2D extends DOConvBase {
  static className = 'DOConv2D';
  readonly filters: number;
  readonly groups: number;

  constructor(args: DOConv2DArgs) {
    super('conv2d', args as unknown as Record<string, unknown>, {
      regularizer: 'kernelRegularizer',
      constraint: 'kernelConstraint',
    });
    this.filters = positiveInt('filters', args.filters);
    this.groups = positiveInt('groups', args.groups ?? 1);
    if (this.filters % this.groups !== 0) {
      throw new Error(`filters (${this.filters}) must be divisible by groups (${this.groups})`);
    }
  }

  protected kernelSpec(inChannels: number): DOKernelSpec {
    if (inChannels % this.groups !== 0) {
      throw new Error(
        `${this.name}: groups (${this.groups}) must divide the input channels (${inChannels})`,
      );
    }
    return {
      kernelName: 'kernel',
      kernelShape: [this.dMul, inChannels / this.groups, this.filters],
      groups: this.groups,
      filters: this.filters,
    };
  }

  protected compositionWeight(kernel: tf.Tensor): tf.Tensor3D {
    return kernel as tf.Tensor3D;
  }

  protected kernelTraits() {
    return {
      initializer: this.standard.kernelInitializer as never,
      regularizer: (this.standard.kernelRegularizer ?? undefined) as never,
      constraint: (this.standard.kernelConstraint ?? undefined) as never,
    };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.doConfig(), groups: this.groups };
  }
}
tf.serialization.registerClass(DOConv2D);

/** Factory in the style of tf.layers.conv2d. */
export function doConv2d(args: DOConv2DArgs): DOConv2D {
  return new DOConv2D(args);
}
