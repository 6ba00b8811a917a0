import * as tf from '@tensorflow/tfjs';
import type { AxisGeometry } from '../convGeometry.js';
import { inputGradAxisPhases } from '../convGeometry.js';
import { padIfNeeded, release, reshape, reverse } from '../wasmOps.js';

/**
 * Where both backprop-input kernels start for stride > 1: the filter [Mh·sh, Mw·sw, A, B], zero-padded
 * to whole phases, viewed as [Mh, sh, Mw, sw, A, B] (tap m of phase r is w[m·s + r]) and reversed
 * along the taps, because the conv correlates. The caller transposes it into its own layout and
 * releases it.
 */
export function reversedPhaseFilter(
  backend: tf.KernelBackend,
  filter: tf.TensorInfo,
  h: AxisGeometry,
  w: AxisGeometry,
): tf.TensorInfo {
  const ph = inputGradAxisPhases(h);
  const pw = inputGradAxisPhases(w);
  const [, , a, b] = filter.shape;
  const fp = padIfNeeded(backend, filter, [
    [0, ph.padFilter],
    [0, pw.padFilter],
    [0, 0],
    [0, 0],
  ]);
  const f6 = reshape(backend, fp, [ph.taps, h.s, pw.taps, w.s, a, b]);
  const fr = reverse(backend, f6, [0, 2]);
  release(backend, fp, f6);
  return fr;
}
