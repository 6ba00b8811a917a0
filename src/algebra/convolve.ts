import * as tf from '@tensorflow/tfjs';
import type { EngineRoutes } from '../util/engineRoutes.js';

/** The two activations tf.fused ops can differentiate (tfjs-core getFusedDyActivation). */
export type FusableActivation = 'linear' | 'relu';

export interface ConvolveOptions {
  strides: [number, number];
  padding: 'same' | 'valid';
  dilationRate: [number, number];
  /** 1: plain conv; inCh: depthwise; between: grouped (split, conv, concat). */
  groups: number;
  bias?: tf.Tensor1D | null;
  /** Fused into the conv when the path allows it, applied after it otherwise. */
  activation?: FusableActivation;
  /**
   * The fused paths the caller's backend offers (util/engineRoutes.ts; a layer passes
   * engineRoutes()). Default: none — the TF.js ops every backend runs.
   */
  routes?: Partial<EngineRoutes>;
}

/**
 * conv(x, K) for a kernel K [M, N, C/g, F] in grouped-conv layout, channelsLast, on every backend,
 * with gradients for every input, including dilation > 1 (which TF.js's own conv gradients refuse).
 */
export function convolve(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  options: ConvolveOptions,
): tf.Tensor4D {
  const { strides, dilationRate } = options;
  const dilated = dilationRate[0] > 1 || dilationRate[1] > 1;
  if (dilated && (strides[0] > 1 || strides[1] > 1)) {
    throw new Error(
      `convolve: strides ${JSON.stringify(strides)} > 1 together with dilationRate ` +
        `${JSON.stringify(dilationRate)} > 1 is not supported`,
    );
  }
  return tf.tidy(() => {
    if (!dilated) return convolveUndilated(x, kernel, options);
    // Where the engine gives dilated convs gradients (doconv's engine), the conv itself: one op
    // each way instead of space-to-batch and back (on wasm those two cost 6× the convs of
    // deeplab-mini's training step).
    if (options.routes?.dilatedConv === true) return convolveDilated(x, kernel, options);
    // Dilated conv = space-to-batch, undilated conv, batch-to-space (TF's own formulation):
    // same FLOPs as the dilated conv, and every op on the way has a gradient on every backend.
    const [dh, dw] = dilationRate;
    const [M, N] = kernel.shape;
    const [top, bottom] = samePadding(options.padding, M, dh);
    const [left, right] = samePadding(options.padding, N, dw);
    const extraH = roundUpExtra(x.shape[1] + top + bottom, dh);
    const extraW = roundUpExtra(x.shape[2] + left + right, dw);
    const spread = tf.spaceToBatchND(
      x,
      [dh, dw],
      [
        [top, bottom + extraH],
        [left, right + extraW],
      ],
    ) as tf.Tensor4D;
    const y = convolveUndilated(spread, kernel, {
      ...options,
      padding: 'valid',
      dilationRate: [1, 1],
    });
    return tf.batchToSpaceND(
      y,
      [dh, dw],
      [
        [0, extraH],
        [0, extraW],
      ],
    ) as tf.Tensor4D;
  });
}

/** Padding [before, after] that TF's 'same' gives a stride-1 conv of the dilated kernel extent. */
function samePadding(padding: 'same' | 'valid', size: number, dilation: number): [number, number] {
  if (padding === 'valid') return [0, 0];
  const total = (size - 1) * dilation;
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function roundUpExtra(length: number, block: number): number {
  return (block - (length % block)) % block;
}

/**
 * A dilated conv as TF.js's own dilated conv ops. Not tf.fused: its gradient refuses dilations,
 * while the plain ops' gradients are the registry's (the engine's on wasm); bias and activation
 * follow as ops.
 */
function convolveDilated(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  options: ConvolveOptions,
): tf.Tensor4D {
  const { groups, strides, padding, dilationRate } = options;
  const [M, N, cPerGroup, filters] = kernel.shape;
  checkGroups(x, kernel, groups);
  let y: tf.Tensor4D;
  if (groups === 1) {
    y = tf.conv2d(x, kernel, strides, padding, 'NHWC', dilationRate);
  } else if (cPerGroup === 1) {
    const depthwise = tf.reshape(kernel, [M, N, x.shape[3], filters / x.shape[3]]) as tf.Tensor4D;
    y = tf.depthwiseConv2d(x, depthwise, strides, padding, 'NHWC', dilationRate);
  } else {
    const xs = tf.split(x, groups, 3) as tf.Tensor4D[];
    const ks = tf.split(kernel, groups, 3) as tf.Tensor4D[];
    y = tf.concat(
      xs.map((xi, i) => tf.conv2d(xi, ks[i], strides, padding, 'NHWC', dilationRate)),
      3,
    );
  }
  if (options.bias) y = tf.add(y, options.bias);
  return options.activation === 'relu' ? tf.relu(y) : y;
}

function checkGroups(x: tf.Tensor4D, kernel: tf.Tensor4D, groups: number): void {
  const inChannels = x.shape[3];
  const cPerGroup = kernel.shape[2];
  if (cPerGroup * groups !== inChannels) {
    throw new Error(
      `convolve: input has ${inChannels} channels but kernel ${JSON.stringify(kernel.shape)} with ` +
        `groups ${groups} expects ${cPerGroup * groups}`,
    );
  }
}

function convolveUndilated(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  options: ConvolveOptions,
): tf.Tensor4D {
  const inChannels = x.shape[3];
  const { groups, strides, padding } = options;
  const [M, N, cPerGroup, filters] = kernel.shape;
  checkGroups(x, kernel, groups);
  const bias = options.bias ?? undefined;
  const activation = options.activation ?? 'linear';
  if (groups === 1) {
    return tf.fused.conv2d({ x, filter: kernel, strides, pad: padding, bias, activation });
  }
  if (cPerGroup === 1) {
    // groups = inCh: output o = c·multiplier + q reads channel c, exactly depthwise's layout.
    const depthwise = tf.reshape(kernel, [M, N, inChannels, filters / inChannels]) as tf.Tensor4D;
    // Nothing to fuse: the plain op, as tf.layers.depthwiseConv2d runs it. tf.fused's gradient
    // keeps the output alive until the backward pass even with nothing to fuse (MobileNet-v2's
    // step held ~110 MiB more as DO-DConv than as depthwise).
    if (!bias && activation === 'linear') {
      return tf.depthwiseConv2d(x, depthwise, strides, padding);
    }
    return tf.fused.depthwiseConv2d({
      x,
      filter: depthwise,
      strides,
      pad: padding,
      bias,
      activation,
    });
  }
  // TF.js has no grouped conv2d: one conv per group, concatenated along channels.
  const xs = tf.split(x, groups, 3) as tf.Tensor4D[];
  const ks = tf.split(kernel, groups, 3) as tf.Tensor4D[];
  const ys = xs.map((xi, i) => tf.conv2d(xi, ks[i], strides, padding));
  let y: tf.Tensor4D = tf.concat(ys, 3);
  if (bias) y = tf.add(y, bias);
  return activation === 'relu' ? tf.relu(y) : y;
}
