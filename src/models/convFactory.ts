import * as tf from '@tensorflow/tfjs';
import { doConv2d } from '../layers/DOConv2D.js';
import { doDepthwiseConv2d } from '../layers/DODepthwiseConv2D.js';
import { dilatedConv2d } from '../layers/DilatedConv2D.js';
import type { Conv2DLayerArgs, DepthwiseConv2DLayerArgs } from '../layers/standardConvArgs.js';
import { formatValue } from '../util/formatValue.js';

/** Which convolution a zoo model is built with: plain tf.layers convs, or DO-Conv / DO-DConv. */
export type ConvKind = 'conv' | 'doconv';

/** The known conv kinds, for argument checking and CLI help. */
export const convKinds: readonly ConvKind[] = ['conv', 'doconv'];

/**
 * The one place a zoo model gets its convolutions from (timm's `create_conv2d` / `LayerFn` idea):
 * every builder receives a factory, so switching Conv ↔ DO-Conv is an argument, never a global flag.
 */
export interface ConvFactory {
  /** What this factory builds, recorded so a built model can say what it is. */
  readonly kind: ConvKind;
  /** A Conv2D (args of tf.layers.conv2d). */
  conv2d(args: Conv2DLayerArgs): tf.layers.Layer;
  /** A DepthwiseConv2D (args of tf.layers.depthwiseConv2d). */
  depthwiseConv2d(args: DepthwiseConv2DLayerArgs): tf.layers.Layer;
}

/** M·N of a kernelSize argument (a number k means k×k). */
export function kernelArea(kernelSize: number | number[]): number {
  return Array.isArray(kernelSize)
    ? kernelSize.reduce((a, b) => a * b, 1)
    : kernelSize * kernelSize;
}

/**
 * A conv factory of the given kind. With 'doconv', every k×k conv (k·k > 1) becomes a DOConv2D and
 * every k×k depthwise conv a DODepthwiseConv2D, with the default dMul = M·N; 1×1 convs stay
 * tf.layers.conv2d (a 1×1 DO-Conv has no D: it is a plain conv). Everything else is passed through
 * unchanged, so a conv model and its doconv twin differ in exactly one thing.
 *
 * Dilated convs take one route on both sides: a DO layer computes a dilated conv as space-to-batch →
 * conv → batch-to-space (TF.js's own conv gradient throws for dilation > 1), so 'conv' builds a
 * dilated conv2d as a DilatedConv2D, which computes it the same way; a dilated depthwise conv is
 * refused under 'conv' (tf.layers.depthwiseConv2d ignores dilationRate in tfjs 4.22).
 *
 * Both kinds default the kernel initializer to glorotUniform (Keras's default): tf.layers convs
 * default to glorotNormal and DOConv2D to glorotUniform, and the twins must start alike.
 */
export function convFactory(kind: ConvKind): ConvFactory {
  if (!convKinds.includes(kind)) {
    throw new Error(
      `convFactory: kind must be one of ${convKinds.map((k) => `'${k}'`).join(', ')}, got ${formatValue(kind)}`,
    );
  }
  const over = kind === 'doconv';
  return {
    kind,
    conv2d(args) {
      const withInit = { ...args, kernelInitializer: args.kernelInitializer ?? 'glorotUniform' };
      if (over && kernelArea(args.kernelSize) > 1) return doConv2d(withInit);
      return isDilated(args.dilationRate) ? dilatedConv2d(withInit) : tf.layers.conv2d(withInit);
    },
    depthwiseConv2d(args) {
      const withInit = {
        ...args,
        depthwiseInitializer: args.depthwiseInitializer ?? 'glorotUniform',
      };
      if (over && kernelArea(args.kernelSize) > 1) return doDepthwiseConv2d(withInit);
      if (isDilated(args.dilationRate)) {
        throw new Error(
          `convFactory('conv').depthwiseConv2d: dilationRate ${formatValue(args.dilationRate)} is not supported (tf.layers.depthwiseConv2d ignores it); use 'doconv' or an undilated depthwise conv`,
        );
      }
      return tf.layers.depthwiseConv2d(withInit);
    },
  };
}

function isDilated(rate: number | number[] | undefined): boolean {
  return (Array.isArray(rate) ? rate : [rate ?? 1]).some((r) => r > 1);
}
