/**
 * What doconv's conv layers (DOConvBase's two, DilatedConv2D) share around their kernel: the conv
 * geometry from tf.layers args, the conv with its bias and activation in call(), the output shape.
 */
import * as tf from '@tensorflow/tfjs';
import { convolve, type ConvolveOptions } from '../algebra/convolve.js';
import { engineRoutes } from '../util/engineRoutes.js';
import type { ResolvedConvFields } from './standardConvArgs.js';
import {
  checkChannelsLast,
  checkDilationWithStrides,
  checkPadding,
  convOutputLength,
  normalizePair,
} from './validateArgs.js';

/** A conv layer's geometry, normalized and checked. */
export interface ConvLayerGeometry {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilationRate: [number, number];
  readonly padding: 'same' | 'valid';
}

/** The geometry of a tf.layers conv's args; throws naming the arg for a bad one. */
export function resolveConvGeometry(args: {
  kernelSize?: unknown;
  strides?: unknown;
  dilationRate?: unknown;
  padding?: unknown;
  dataFormat?: unknown;
}): ConvLayerGeometry {
  const geometry = {
    kernelSize: normalizePair('kernelSize', args.kernelSize, NaN),
    strides: normalizePair('strides', args.strides, 1),
    dilationRate: normalizePair('dilationRate', args.dilationRate, 1),
    padding: checkPadding(args.padding),
  };
  checkChannelsLast(args.dataFormat);
  checkDilationWithStrides(geometry.strides, geometry.dilationRate);
  return geometry;
}

/** The one input shape of a single-input layer, which may be handed a list of one. */
export function singleShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
}

/** How a layer convolves its input: `convolve` with its kernel, or DO-Conv's composed conv. */
export type LayerConvolution = (x: tf.Tensor4D, options: ConvolveOptions) => tf.Tensor4D;

/** A layer convolution with a ready kernel. */
export function withKernel(kernel: tf.Tensor4D): LayerConvolution {
  return (x, options) => convolve(x, kernel, options);
}

/**
 * act(conv(x, kernel) + bias) for the layer's call(), inside tf.tidy: the activation fused into
 * the conv when it can be (`standard.fusableActivation`), applied after it otherwise.
 */
export function convLayerCall(
  geometry: ConvLayerGeometry,
  inputs: tf.Tensor | tf.Tensor[],
  convolution: LayerConvolution,
  groups: number,
  bias: tf.LayerVariable | null,
  standard: Pick<ResolvedConvFields, 'activation' | 'fusableActivation'>,
): tf.Tensor {
  const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
  const y = convolution(x, {
    strides: geometry.strides,
    padding: geometry.padding,
    dilationRate: geometry.dilationRate,
    groups,
    bias: bias ? (bias.read() as tf.Tensor1D) : null,
    activation: standard.fusableActivation ?? 'linear',
    // The algebra looks nothing up: the fused paths the active backend offers are its arguments.
    routes: engineRoutes(),
  });
  return standard.fusableActivation ? y : standard.activation.apply(y);
}

/** The NHWC output shape for an input `shape` and `filters` output channels. */
export function convOutputShape(
  geometry: ConvLayerGeometry,
  shape: tf.Shape,
  filters: number,
): tf.Shape {
  const { kernelSize, padding, strides, dilationRate } = geometry;
  return [
    shape[0],
    convOutputLength(shape[1], kernelSize[0], padding, strides[0], dilationRate[0]),
    convOutputLength(shape[2], kernelSize[1], padding, strides[1], dilationRate[1]),
    filters,
  ];
}
