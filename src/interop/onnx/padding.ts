import type { Dim } from './onnxGraph.js';

/**
 * TF's 'same' padding along one axis, [before, after]: with extent e = (k − 1)·d + 1 and
 * out = ⌈in / s⌉, total = max((out − 1)·s + e − in, 0), before = ⌊total / 2⌋ — the odd pixel goes
 * after (bottom/right), which is why a stride-2 'same' conv pads asymmetrically.
 */
export function samePads(
  inSize: number,
  kernel: number,
  stride: number,
  dilation = 1,
): [number, number] {
  const extent = (kernel - 1) * dilation + 1;
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + extent - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** The ONNX attributes (`pads` or `auto_pad`) of a TF conv or pool over spatial sizes [H, W]. */
export function onnxPadding(
  padding: 'same' | 'valid',
  spatial: [Dim, Dim],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number] = [1, 1],
): { pads?: number[]; auto_pad?: string } {
  if (padding === 'valid') return {};
  const [h, w] = spatial;
  if (h == null || w == null) {
    // SAME_UPPER is TF's rule (extra pixel at the end), computed by the runtime from the actual size.
    return { auto_pad: 'SAME_UPPER' };
  }
  const [top, bottom] = samePads(h, kernel[0], strides[0], dilations[0]);
  const [left, right] = samePads(w, kernel[1], strides[1], dilations[1]);
  if (top + bottom + left + right === 0) return {};
  return { pads: [top, left, bottom, right] };
}
