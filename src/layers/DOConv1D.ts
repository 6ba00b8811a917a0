import * as tf from '@tensorflow/tfjs';
import { DOConvBase, type DOArgs, type DOKernelSpec } from './DOConvBase.js';
import { conv1dArgs, type Conv1DLayerArgs } from './standardConvArgs.js';
import {
  checkArgsObject,
  checkChannelsLast,
  checkDilationWithStrides,
  checkPadding,
  positiveInt,
} from './validateArgs.js';
import { singleShape, type ConvLayerGeometry } from './convLayer.js';
import { formatValue } from '../util/formatValue.js';

/** Args of {@link DOConv1D}: those of tf.layers.conv1d (padding 'same' or 'valid'), plus DO-Conv's. */
export interface DOConv1DArgs extends Conv1DLayerArgs, DOArgs {}

/**
 * DO-Conv for 1D inputs [batch, length, channels], as a drop-in for tf.layers.conv1d: the kernel K
 * [k, C, F] of a Conv1D is composed from W [dMul, C, F] and D [k, dMul, C] (only when k > 1) as a
 * 2D DO-Conv's with kernel 1×k: K[m, c, o] = Σ_s D̂[m, s, c] · W[s, c, o], D̂ = D + D_diag. Weight
 * names and layouts are DOConv2D's (`kernel`, `D`, `bias`), so the official composition and the
 * PyTorch twin (tools/doconv_torch DOConv1d: W [F, C, D_mul], D [C, k, D_mul]) carry over. Computed
 * as the 1×k DO-Conv of the input seen as height 1. `foldModel` turns it into a Conv1D.
 * Groups are 1, as tf.layers.conv1d's; 'causal' padding is refused.
 */
export class DOConv1D extends DOConvBase {
  static className = 'DOConv1D';
  readonly filters: number;

  constructor(args: DOConv1DArgs) {
    const checked = checkArgsObject('DOConv1D', args);
    super(checked, conv1dArgs(checked), conv1dGeometry(checked));
    this.filters = positiveInt('filters', args.filters);
    const { groups } = args as { groups?: unknown };
    if (groups !== undefined && groups !== 1) {
      throw new Error(
        `DOConv1D: groups must be 1 (tf.layers.conv1d has no groups), got ${formatValue(groups)}`,
      );
    }
    this.checkWeightSizes(1);
  }

  protected override get inputLayout(): string[] {
    return ['batch', 'length', 'channels'];
  }

  protected kernelSpec(inChannels: number): DOKernelSpec {
    return {
      inChannels,
      kernelName: 'kernel',
      kernelShape: [this.dMul, inChannels, this.filters],
      groups: 1,
      filters: this.filters,
    };
  }

  protected compositionWeight(kernel: tf.Tensor): tf.Tensor3D {
    return kernel as tf.Tensor3D;
  }

  /** The composed kernel as a Conv1D holds it: [k, C, F]. */
  composedKernel1d(): tf.Tensor3D {
    return tf.tidy(() => {
      const kernel = this.composedKernel();
      const [, k, c, f] = kernel.shape;
      return tf.reshape(kernel, [k, c, f]);
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      return tf.squeeze(super.call(tf.expandDims(x, 1)), [1]);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, length, channels] = singleShape(inputShape);
    const [, , outLength, filters] = super.computeOutputShape([batch, 1, length, channels]);
    return [batch, outLength, filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return this.doConfig();
  }
}
tf.serialization.registerClass(DOConv1D);

/** Factory in the style of tf.layers.conv1d. */
export function doConv1d(args: DOConv1DArgs): DOConv1D {
  return new DOConv1D(args);
}

/** A conv1d's geometry as the 2D conv of height 1 that computes it. */
function conv1dGeometry(args: Conv1DLayerArgs): ConvLayerGeometry {
  const kernel = single('kernelSize', args.kernelSize, NaN);
  const stride = single('strides', args.strides, 1);
  const dilation = single('dilationRate', args.dilationRate, 1);
  checkChannelsLast(args.dataFormat);
  const geometry: ConvLayerGeometry = {
    kernelSize: [1, kernel],
    strides: [1, stride],
    dilationRate: [1, dilation],
    padding: checkPadding(args.padding),
  };
  checkDilationWithStrides(geometry.strides, geometry.dilationRate);
  return geometry;
}

/** A positive integer given as n or [n] (tf.layers.conv1d's getConfig writes [n]). */
function single(name: string, value: unknown, fallback: number): number {
  const raw = value ?? fallback;
  const n = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  if (!Number.isSafeInteger(n) || (n as number) <= 0) {
    throw new Error(
      `${name} must be a positive integer or a list of one, got ${formatValue(value)}`,
    );
  }
  return n as number;
}
