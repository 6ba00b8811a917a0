import * as tf from '@tensorflow/tfjs';
import { DOConvBase, type DOArgs, type DOKernelSpec } from './DOConvBase.js';
import type { Conv2DLayerArgs } from './standardConvArgs.js';
import { officialKerasKernel } from '../algebra/officialComposition.js';
import { positiveInt } from './validateArgs.js';

/** Args of {@link DOConv2D}: those of tf.layers.conv2d, plus DO-Conv's. */
export interface DOConv2DArgs extends Conv2DLayerArgs, DOArgs {
  /**
   * Convolution groups g (default 1). 1: DO-Conv; inCh: DO-DConv (depthwise, filters = inCh·multiplier);
   * between: DO-GConv. g must divide both the input channels and `filters`.
   */
  groups?: number;
  /**
   * 'definition' (default): the DO-Conv definition for every `groups`. 'keras-official': the function
   * the official Keras DOConv2D computes, whose W reshape departs from the definition for
   * 1 < groups < inCh. Chosen automatically, with a warning, for such a layer whose config spells the
   * depth multiplier the Keras way (`D_mul`, which tfjs-layers' loader turns into `DMul`): a model
   * converted from Keras then computes what it computed in Keras.
   */
  composition?: 'definition' | 'keras-official';
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
  private composition: 'definition' | 'keras-official' | undefined;
  private readonly fromKerasConfig: boolean;

  constructor(args: DOConv2DArgs) {
    super('conv2d', args as unknown as Record<string, unknown>, {
      regularizer: 'kernelRegularizer',
      constraint: 'kernelConstraint',
    });
    this.filters = positiveInt('filters', args.filters);
    this.groups = positiveInt('groups', args.groups ?? 1);
    if (
      args.composition != null &&
      args.composition !== 'definition' &&
      args.composition !== 'keras-official'
    ) {
      throw new Error(
        `composition must be 'definition' or 'keras-official', got ${JSON.stringify(args.composition)}`,
      );
    }
    this.composition = args.composition;
    const keras = args as { DMul?: unknown; D_mul?: unknown };
    this.fromKerasConfig = keras.DMul != null || keras.D_mul != null;
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
    const departs = this.groups > 1 && this.groups < inChannels && this.kernelArea > 1;
    if (this.composition == null) {
      this.composition = departs && this.fromKerasConfig ? 'keras-official' : 'definition';
      if (this.composition === 'keras-official') {
        console.warn(
          `doconv: layer '${this.name}' (groups ${this.groups} of ${inChannels} input channels) comes from ` +
            `the official Keras DOConv2D, whose W reshape departs from the DO-Conv definition for ` +
            `1 < groups < inCh; it computes the official layer's function (composition 'keras-official').`,
        );
      }
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

  protected override compose(weight: tf.Tensor3D, dHat: tf.Tensor3D | null): tf.Tensor4D {
    if (this.composition !== 'keras-official') return super.compose(weight, dHat);
    return officialKerasKernel(weight, dHat, this.kernelSize, this.groups);
  }

  protected kernelTraits() {
    return {
      initializer: this.standard.kernelInitializer as never,
      regularizer: (this.standard.kernelRegularizer ?? undefined) as never,
      constraint: (this.standard.kernelConstraint ?? undefined) as never,
    };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...this.doConfig(),
      groups: this.groups,
      composition: this.composition ?? 'definition',
    };
  }
}
tf.serialization.registerClass(DOConv2D);

/** Factory in the style of tf.layers.conv2d. */
export function doConv2d(args: DOConv2DArgs): DOConv2D {
  return new DOConv2D(args);
}
