import * as tf from '@tensorflow/tfjs';
import { DOConvBase, type DOArgs, type DOKernelSpec } from './DOConvBase.js';
import { conv2dArgs, type Conv2DLayerArgs } from './standardConvArgs.js';
import { officialKerasKernel } from '../algebra/officialComposition.js';
import { checkArgsObject, positiveInt } from './validateArgs.js';
import { withKernel, type LayerConvolution } from './convLayer.js';
import { warningSink, type WarningSink } from './warnings.js';
import { formatValue } from '../util/formatValue.js';

/** How W and D̂ compose into the conv kernel, see {@link DOConv2DArgs.composition}. */
export type Composition = 'definition' | 'keras-official';

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
  composition?: Composition;
  /**
   * Receives the warning given when the layer chooses the 'keras-official' composition by itself.
   * Default console.warn. Not serialised.
   */
  onWarning?: WarningSink;
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
  /** The composition asked for; undefined: chosen in build() from the input channels. */
  private readonly requestedComposition: Composition | undefined;
  /** The composition in use, once built. */
  private composition: Composition | null = null;
  private readonly onWarning: WarningSink;

  constructor(args: DOConv2DArgs) {
    super(checkArgsObject('DOConv2D', args), conv2dArgs(args));
    this.filters = positiveInt('filters', args.filters);
    this.groups = positiveInt('groups', args.groups ?? 1);
    if (
      args.composition != null &&
      args.composition !== 'definition' &&
      args.composition !== 'keras-official'
    ) {
      throw new Error(
        `composition must be 'definition' or 'keras-official', got ${formatValue(args.composition)}`,
      );
    }
    this.requestedComposition = args.composition;
    this.onWarning = warningSink(args.onWarning, 'DOConv2D');
    if (this.filters % this.groups !== 0) {
      throw new Error(`filters (${this.filters}) must be divisible by groups (${this.groups})`);
    }
    this.checkWeightSizes(this.groups);
  }

  protected kernelSpec(inChannels: number): DOKernelSpec {
    if (inChannels % this.groups !== 0) {
      throw new Error(
        `${this.name}: groups (${this.groups}) must divide the input channels (${inChannels})`,
      );
    }
    return {
      inChannels,
      kernelName: 'kernel',
      kernelShape: [this.dMul, inChannels / this.groups, this.filters],
      groups: this.groups,
      filters: this.filters,
    };
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    this.composition = this.requestedComposition ?? this.defaultComposition(this.spec!.inChannels);
  }

  /**
   * The definition, except for a layer from the official Keras DOConv2D whose W reshape departs from
   * it (1 < groups < inCh): that one computes what it computed in Keras, and says so.
   */
  private defaultComposition(inChannels: number): Composition {
    const departs = this.groups > 1 && this.groups < inChannels && this.kernelArea > 1;
    if (!departs || !this.fromKerasConfig) return 'definition';
    this.onWarning(
      `layer '${this.name}' (groups ${this.groups} of ${inChannels} input channels) comes from ` +
        `the official Keras DOConv2D, whose W reshape departs from the DO-Conv definition for ` +
        `1 < groups < inCh; it computes the official layer's function (composition 'keras-official').`,
    );
    return 'keras-official';
  }

  protected compositionWeight(kernel: tf.Tensor): tf.Tensor3D {
    return kernel as tf.Tensor3D;
  }

  protected override compose(
    weight: tf.Tensor3D,
    d: tf.Tensor3D | null,
    dDiag: tf.Tensor3D | null,
  ): tf.Tensor4D {
    if (this.composition !== 'keras-official') return super.compose(weight, d, dDiag);
    const dHat = d !== null && dDiag !== null ? (tf.add(d, dDiag) as tf.Tensor3D) : null;
    return officialKerasKernel(weight, dHat, this.kernelSize, this.groups);
  }

  protected override convolution(): LayerConvolution {
    return this.composition === 'keras-official'
      ? withKernel(this.composedKernel())
      : super.convolution();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...this.doConfig(),
      groups: this.groups,
      composition: this.composition ?? this.requestedComposition ?? 'definition',
    };
  }
}
tf.serialization.registerClass(DOConv2D);

/** Factory in the style of tf.layers.conv2d. */
export function doConv2d(args: DOConv2DArgs): DOConv2D {
  return new DOConv2D(args);
}
