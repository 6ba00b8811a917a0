import * as tf from '@tensorflow/tfjs';
import { composeKernelFromParts } from '../algebra/composeKernel.js';
import { convolveComposed } from '../algebra/convolveComposed.js';
import { engineRoutes } from '../util/engineRoutes.js';
import type { FusableActivation } from '../algebra/convolve.js';
import { diagIdentity } from '../algebra/diagIdentity.js';
import { normalizeDMulSpelling } from './kerasSpelling.js';
import {
  resolveRegularizerAndConstraint,
  standardConvLayer,
  type ConstraintArg,
  type LayerArgs,
  type RegularizerArg,
  type ResolvedConvFields,
  type StandardConv,
} from './standardConvArgs.js';
import { checkWeightShape, resolveDMul } from './validateArgs.js';
import {
  convLayerCall,
  convOutputShape,
  resolveConvGeometry,
  singleShape,
  type ConvLayerGeometry,
  type LayerConvolution,
} from './convLayer.js';
import { shortWeightName } from './weightNames.js';
import { formatValue } from '../util/formatValue.js';

/** Args both DO layers add to their tf.layers counterpart. */
export interface DOArgs {
  /**
   * Depth multiplier D_mul of the over-parameterization D. Default M·N; smaller is rejected (it
   * loses expressiveness, paper Prop. 3); must be 1 for 1×1 kernels, which have no D.
   * A config may spell it `DMul` or `D_mul` (the official Keras key), see kerasSpelling.ts.
   */
  dMul?: number;
  /** Regularizer for D. Default: the kernel's regularizer, as in the official Keras layer. */
  dRegularizer?: RegularizerArg;
  /** Constraint for D. Default: the kernel's constraint, as in the official Keras layer. */
  dConstraint?: ConstraintArg;
}

/** What a subclass tells the shared DO-Conv machinery about itself, for a given input. */
export interface DOKernelSpec {
  /** Input channels C. */
  inChannels: number;
  /** Weight name of W, as the official layers name it. */
  kernelName: string;
  /** Stored shape of W. */
  kernelShape: number[];
  /** Groups of the composed conv (1 .. inCh). */
  groups: number;
  /** Output channels F. */
  filters: number;
}

/**
 * The machinery DOConv2D and DODepthwiseConv2D share: weights W, D (zero-initialised), the constant
 * D_diag, kernel composition K = compose(D + D_diag, W), and y = act(conv(x, K) + b).
 */
export abstract class DOConvBase extends tf.layers.Layer {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilationRate: [number, number];
  readonly padding: 'same' | 'valid';
  readonly dMul: number;
  readonly useBias: boolean;
  /** The args spelled the depth multiplier the Keras way: the config came from the official layer. */
  protected readonly fromKerasConfig: boolean;
  protected readonly standard: ResolvedConvFields;
  protected readonly standardConfig: tf.serialization.ConfigDict;
  protected readonly dRegularization: ReturnType<typeof resolveRegularizerAndConstraint>;
  protected readonly fusableActivation: FusableActivation | null;

  protected kernel: tf.LayerVariable | null = null;
  protected d: tf.LayerVariable | null = null;
  protected bias: tf.LayerVariable | null = null;
  protected dDiag: tf.Tensor3D | null = null;
  protected spec: DOKernelSpec | null = null;

  /**
   * @param args the layer-level args (name, inputShape, ...) and DO-Conv's.
   * @param standard the tf.layers conv this layer stands in for, with its conv args (picked by name).
   * @param geometry its geometry as a 2D conv's (a 1D conv is a 2D conv of height 1).
   */
  protected constructor(
    args: LayerArgs & DOArgs,
    standard: StandardConv,
    geometry: ConvLayerGeometry = resolveConvGeometry(standard.args),
  ) {
    super(args);
    const { dMul, fromKeras } = normalizeDMulSpelling(args);
    this.fromKerasConfig = fromKeras;
    this.kernelSize = geometry.kernelSize;
    this.strides = geometry.strides;
    this.dilationRate = geometry.dilationRate;
    this.padding = geometry.padding;
    this.dMul = resolveDMul(dMul, this.kernelArea);

    const { fields, config } = standardConvLayer(withGlorotUniformKernel(standard));
    this.standard = fields;
    this.standardConfig = config;
    this.useBias = fields.useBias;
    if (fields.activityRegularizer) this.activityRegularizer = fields.activityRegularizer;
    this.dRegularization = resolveRegularizerAndConstraint(
      args.dRegularizer ?? fields.kernel.regularizer,
      args.dConstraint ?? fields.kernel.constraint,
    );
    this.fusableActivation = fields.fusableActivation;
  }

  get kernelArea(): number {
    return this.kernelSize[0] * this.kernelSize[1];
  }

  /** The subclass's weight layout for an input with `inChannels` channels; validates, changes nothing. */
  protected abstract kernelSpec(inChannels: number): DOKernelSpec;
  /** W reshaped to the composition layout [dMul, C/g, F]. */
  protected abstract compositionWeight(kernel: tf.Tensor): tf.Tensor3D;

  /** The input layout the layer takes, as its error messages name it. */
  protected get inputLayout(): string[] {
    return ['batch', 'height', 'width', 'channels'];
  }

  /** Weights a subclass adds between D and the bias (DOSeparableConv2D's pointwise kernel). */
  protected buildMoreWeights(_inChannels: number): void {}

  /** The shapes of the weights buildMoreWeights adds, by name, for `inChannels` input channels. */
  protected moreWeightShapes(_inChannels: number): Record<string, number[]> {
    return {};
  }

  /**
   * Refuses weights over the size cap before any is allocated: W, D, the composed kernel K every
   * call computes, and a subclass's own, for `inChannels` input channels.
   * Subclass constructors call it with the fewest channels their args allow (a lower bound: a
   * `filters: 1e9` fails at once), build() with the real ones.
   */
  protected checkWeightSizes(inChannels: number): void {
    const spec = this.kernelSpec(inChannels);
    const args =
      `filters ${spec.filters}, kernelSize ${formatValue(this.kernelSize)}, dMul ${this.dMul}, ` +
      `input channels ${inChannels}${spec.groups > 1 ? `, groups ${spec.groups}` : ''}`;
    const where = `${this.getClassName()} '${this.name}'`;
    const shapes: Record<string, number[]> = {
      [spec.kernelName]: spec.kernelShape,
      ...(this.kernelArea > 1 ? { D: [this.kernelArea, this.dMul, inChannels] } : {}),
      // K holds W's values with the kernel area in place of dMul ([M, N, C/g, F] or depthwise's).
      'composed kernel': [...this.kernelSize, ...spec.kernelShape.slice(1)],
      ...this.moreWeightShapes(inChannels),
    };
    for (const [name, shape] of Object.entries(shapes)) checkWeightShape(where, name, shape, args);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const layout = this.inputLayout;
    if (shape.length !== layout.length) {
      throw new Error(
        `${this.name}: expects ${layout.length}D input [${layout.join(', ')}], got ${formatValue(shape)}`,
      );
    }
    const inChannels = shape[shape.length - 1];
    if (inChannels == null)
      throw new Error(`${this.name}: the channel dimension of the input must be known`);
    const spec = this.kernelSpec(inChannels);
    this.checkWeightSizes(inChannels);
    const w = this.standard.kernel;
    this.kernel = this.addWeight(
      spec.kernelName,
      spec.kernelShape,
      'float32',
      w.initializer,
      w.regularizer,
      true,
      w.constraint,
    );
    if (this.kernelArea > 1) {
      this.d = this.addWeight(
        'D',
        [this.kernelArea, this.dMul, inChannels],
        'float32',
        tf.initializers.zeros(),
        this.dRegularization.regularizer,
        true,
        this.dRegularization.constraint,
      );
      this.dDiag = tf.keep(diagIdentity(this.kernelArea, this.dMul, inChannels));
    }
    this.buildMoreWeights(inChannels);
    if (this.useBias) {
      this.bias = this.addWeight(
        'bias',
        [spec.filters],
        'float32',
        this.standard.bias.initializer,
        this.standard.bias.regularizer,
        true,
        this.standard.bias.constraint,
      );
    }
    this.spec = spec;
    this.inputSpec = [{ ndim: layout.length, axes: { [-1]: inChannels } }];
    this.built = true;
  }

  /**
   * The composed conv kernel K [M, N, C/g, F] (grouped-conv layout) for the current weights: what the
   * layer convolves with, and what folding writes into a plain conv.
   */
  composedKernel(): tf.Tensor4D {
    return tf.tidy(() => {
      const { weight, d, dDiag } = this.compositionParts();
      return this.compose(weight, d, dDiag);
    });
  }

  /** The spec, once built; before, an error naming the layer. */
  private builtSpec(): DOKernelSpec {
    if (!this.kernel || !this.spec) throw new Error(`${this.name}: layer is not built yet`);
    return this.spec;
  }

  /** What the composition takes: W in its layout [dMul, C/g, F], D and D_diag (null for 1×1). */
  private compositionParts() {
    this.builtSpec();
    return {
      weight: this.compositionWeight(this.kernel!.read()),
      d: (this.d?.read() as tf.Tensor3D | undefined) ?? null,
      dDiag: this.dDiag ?? null,
    };
  }

  /**
   * Kernel composition K = compose(D + D_diag, W); the DO-Conv definition unless a subclass
   * reproduces another.
   */
  protected compose(
    weight: tf.Tensor3D,
    d: tf.Tensor3D | null,
    dDiag: tf.Tensor3D | null,
  ): tf.Tensor4D {
    return composeKernelFromParts(weight, d, dDiag, {
      kernelSize: this.kernelSize,
      groups: this.spec!.groups,
      routes: engineRoutes(),
    });
  }

  /** Groups of the composed conv, known once built. */
  get convGroups(): number {
    return this.builtSpec().groups;
  }

  /** The resolved activation's serialized name, e.g. 'relu'. */
  get activationName(): string {
    return this.standardConfig.activation as string;
  }

  /**
   * How call() convolves: conv(x, compose(W, D + D_diag)) in one op where the engine fuses it
   * (convolveComposed); a subclass that reproduces another composition convolves with its
   * composedKernel().
   */
  protected convolution(): LayerConvolution {
    const { weight, d, dDiag } = this.compositionParts();
    return (x, options) =>
      convolveComposed(x, weight, d, dDiag, { ...options, kernelSize: this.kernelSize });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const groups = this.convGroups;
    return tf.tidy(() =>
      convLayerCall(this, inputs, this.convolution(), groups, this.bias, this.standard),
    );
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = singleShape(inputShape);
    const filters = this.spec?.filters ?? this.kernelSpec(shape[3] as number).filters;
    return convOutputShape(this, shape, filters);
  }

  /** Checks every shape by weight name before anything is written. */
  override setWeights(weights: tf.Tensor[]): void {
    const own = this.weights;
    if (weights.length !== own.length) {
      throw new Error(
        `${this.name}.setWeights: expected ${own.length} tensors (${own.map(shortWeightName).join(', ')}), got ${weights.length}`,
      );
    }
    own.forEach((w, i) => {
      if (!tf.util.arraysEqual(w.shape as number[], weights[i].shape)) {
        throw new Error(
          `${this.name}.setWeights: weight '${shortWeightName(w)}' has shape ${formatValue(w.shape)}, ` +
            `got ${formatValue(weights[i].shape)}`,
        );
      }
    });
    super.setWeights(weights);
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0 && this.dDiag) {
      this.dDiag.dispose();
      this.dDiag = null;
    }
    return result;
  }

  /** Config keys both layers add to their tf.layers counterpart's. */
  protected doConfig(): tf.serialization.ConfigDict {
    return {
      ...this.standardConfig,
      ...super.getConfig(),
      dMul: this.dMul,
      dRegularizer: this.dRegularization.config.regularizer,
      dConstraint: this.dRegularization.config.constraint,
    };
  }
}

/** The official Keras layers default W to glorot-uniform (tf.layers convs default to glorot-normal). */
function withGlorotUniformKernel(standard: StandardConv): StandardConv {
  switch (standard.kind) {
    case 'conv2d':
    case 'conv1d': {
      const kernelInitializer = standard.args.kernelInitializer ?? 'glorotUniform';
      return { ...standard, args: { ...standard.args, kernelInitializer } } as StandardConv;
    }
    case 'depthwiseConv2d':
    case 'separableConv2d': {
      const depthwiseInitializer = standard.args.depthwiseInitializer ?? 'glorotUniform';
      return { ...standard, args: { ...standard.args, depthwiseInitializer } } as StandardConv;
    }
  }
}
