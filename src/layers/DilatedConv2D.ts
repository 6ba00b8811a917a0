import * as tf from '@tensorflow/tfjs';
import {
  conv2dArgs,
  standardConvLayer,
  type Conv2DLayerArgs,
  type ResolvedConvFields,
} from './standardConvArgs.js';
import {
  convLayerCall,
  convOutputShape,
  resolveConvGeometry,
  singleShape,
  withKernel,
} from './convLayer.js';
import { checkWeightShape } from './validateArgs.js';
import { formatValue } from '../util/formatValue.js';

/**
 * A plain Conv2D (args, weights and config of tf.layers.conv2d) computed the way doconv's DO layers
 * compute a dilated conv: space-to-batch → undilated conv → batch-to-space (`convolve`). TF.js's own
 * conv gradient throws for dilation > 1, so this is how the Conv twin of a dilated DO-Conv net trains
 * with the same formulation of every conv — a like-for-like comparison. `convFactory('conv')` makes
 * one for every dilated conv2d; `foldModel` turns it into a standard Conv2D (same config, same
 * weights), and the ONNX export writes a dilated Conv.
 */
export class DilatedConv2D extends tf.layers.Layer {
  static className = 'DilatedConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilationRate: [number, number];
  readonly padding: 'same' | 'valid';
  readonly useBias: boolean;
  private readonly standard: ResolvedConvFields;
  private readonly standardConfig: tf.serialization.ConfigDict;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: Conv2DLayerArgs) {
    super(args as unknown as tf.serialization.ConfigDict);
    const geometry = resolveConvGeometry(args);
    this.kernelSize = geometry.kernelSize;
    this.strides = geometry.strides;
    this.dilationRate = geometry.dilationRate;
    this.padding = geometry.padding;
    if (!Number.isSafeInteger(args.filters) || args.filters < 1) {
      throw new Error(
        `DilatedConv2D: filters must be a positive integer, got ${formatValue(args.filters)}`,
      );
    }
    this.filters = args.filters;
    const { fields, config } = standardConvLayer(conv2dArgs(args));
    this.standard = fields;
    this.standardConfig = config;
    this.useBias = fields.useBias;
    this.checkKernelSize(1);
  }

  /** The kernel [M, N, C, F] held to the size cap (util/sizeLimit.ts) before it is allocated. */
  private checkKernelSize(inChannels: number): void {
    checkWeightShape(
      `DilatedConv2D '${this.name}'`,
      'kernel',
      [...this.kernelSize, inChannels, this.filters],
      `filters ${this.filters}, kernelSize ${formatValue(this.kernelSize)}, input channels ${inChannels}`,
    );
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const inChannels = shape[3];
    if (shape.length !== 4 || inChannels == null) {
      throw new Error(
        `${this.name}: expects 4D input [batch, height, width, channels] with known channels, got ${formatValue(shape)}`,
      );
    }
    this.checkKernelSize(inChannels);
    const kernel = this.standard.kernel;
    this.kernel = this.addWeight(
      'kernel',
      [...this.kernelSize, inChannels, this.filters],
      'float32',
      kernel.initializer,
      kernel.regularizer,
      true,
      kernel.constraint,
    );
    if (this.useBias) {
      this.bias = this.addWeight(
        'bias',
        [this.filters],
        'float32',
        this.standard.bias.initializer,
        this.standard.bias.regularizer,
        true,
        this.standard.bias.constraint,
      );
    }
    this.inputSpec = [{ ndim: 4, axes: { [-1]: inChannels } }];
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() =>
      convLayerCall(
        this,
        inputs,
        withKernel(this.kernel!.read() as tf.Tensor4D),
        1,
        this.bias,
        this.standard,
      ),
    );
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return convOutputShape(this, singleShape(inputShape), this.filters);
  }

  /** Exactly tf.layers.conv2d's config, so a fold only changes the class name. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.standardConfig };
  }
}
tf.serialization.registerClass(DilatedConv2D);

/** A DilatedConv2D (args of tf.layers.conv2d). */
export function dilatedConv2d(args: Conv2DLayerArgs): DilatedConv2D {
  return new DilatedConv2D(args);
}
