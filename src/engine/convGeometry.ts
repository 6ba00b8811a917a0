/**
 * Index arithmetic shared by the backprop kernels: pure functions on numbers, no tensors.
 *
 * Forward conv (one spatial axis): y[o] = Σ_k x[o·s + k·d − p] · w[k].
 * Both gradients are rewritten as *forward* convolutions so that XNNPACK runs them.
 */
import * as tf from '@tensorflow/tfjs';

export type Pair = [number, number];

/** One spatial axis of a conv, as computeConv2DInfo resolved it. */
export interface AxisGeometry {
  /** input length */
  inLen: number;
  /** output length */
  outLen: number;
  /** filter taps */
  k: number;
  /** stride */
  s: number;
  /** dilation */
  d: number;
  /** zero padding before the first input element (after resolving 'same'/'valid'/numbers) */
  padBefore: number;
}

/** Both spatial axes of a (depthwise or regular) NHWC conv, resolving the padding the way the forward op did. */
export function convAxes(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | Pair,
  dilations: number | Pair,
  pad: tf.backend_util.PadInfo['type'] | number | unknown,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
  kernelName: string,
): { h: AxisGeometry; w: AxisGeometry; info: tf.backend_util.Conv2DInfo } {
  const s = typeof strides === 'number' ? [strides, strides] : strides;
  const d = typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if ((s[0] > 1 || s[1] > 1) && (d[0] > 1 || d[1] > 1)) {
    throw new Error(
      `doconv ${kernelName}: strides ${JSON.stringify(strides)} and dilations ` +
        `${JSON.stringify(dilations)} are both > 1; TensorFlow does not define this conv either`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    strides,
    dilations,
    pad as 'same',
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
  return {
    info,
    h: {
      inLen: info.inHeight,
      outLen: info.outHeight,
      k: info.filterHeight,
      s: info.strideHeight,
      d: info.dilationHeight,
      padBefore: info.padInfo.top,
    },
    w: {
      inLen: info.inWidth,
      outLen: info.outWidth,
      k: info.filterWidth,
      s: info.strideWidth,
      d: info.dilationWidth,
      padBefore: info.padInfo.left,
    },
  };
}

/**
 * Backprop-filter as a forward conv along one axis: dw[k] = Σ_o x[k·d + o·s − p] · dy[o],
 * i.e. x convolved with dy as the filter, stride d, dilation s, padding [p, after].
 * `after` is the least padding giving ≥ k outputs; `outLen` may exceed k (then crop to k).
 */
export function filterGradAxis(a: AxisGeometry): { pad: Pair; outLen: number } {
  const span = a.s * (a.outLen - 1) + 1; // extent of dy used as a dilated filter
  const after = Math.max(0, a.d * (a.k - 1) + span - a.inLen - a.padBefore);
  const outLen = Math.floor((a.inLen + a.padBefore + after - span) / a.d) + 1;
  return { pad: [a.padBefore, after], outLen };
}

/**
 * Backprop-input for stride 1 along one axis: dx[i] = Σ_k dy[i + p − k·d] · w[k]
 * = forward conv of dy (padded by d(k−1)−p before) with the flipped filter, dilation d.
 * Negative padding means rows of dy that never reach dx: crop them instead.
 */
export function inputGradAxisStride1(a: AxisGeometry): { crop: Pair; pad: Pair } {
  const before = a.d * (a.k - 1) - a.padBefore;
  const after = a.inLen - a.outLen + a.d * (a.k - 1) - before;
  const cropBefore = Math.max(0, -before);
  const cropAfter = Math.max(0, -after);
  return {
    crop: [cropBefore, a.outLen - cropBefore - cropAfter],
    pad: [Math.max(0, before), Math.max(0, after)],
  };
}

/**
 * Backprop-input for stride s > 1 (dilation 1) by phases: write i + p = s·q + r (0 ≤ r < s).
 * Then dx[s·q + r − p] = Σ_m dy[q − m] · w[m·s + r], a stride-1 conv of dy with the m-taps
 * of phase r. All s phases come out of one conv with s× the output channels (taps: ⌈k/s⌉),
 * then interleave (DepthToSpace) and crop `p` from the front.
 */
export function inputGradAxisPhases(a: AxisGeometry): {
  taps: number;
  padFilter: number;
  pad: Pair;
  /** rows of the conv output kept before interleaving */
  q: number;
} {
  const taps = Math.ceil(a.k / a.s);
  const q = Math.ceil((a.inLen + a.padBefore) / a.s);
  return { taps, padFilter: taps * a.s - a.k, pad: [taps - 1, Math.max(0, q - a.outLen)], q };
}
