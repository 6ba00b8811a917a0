/**
 * Byte sizes of TF.js weight specs, so loaders and savers can check a weights file against its manifest
 * before decoding it (tfjs' own decoder reads past the end silently or fails with an unhelpful message).
 * Browser-safe.
 */
import type * as tf from '@tensorflow/tfjs';

/** Bytes per element as stored in a weights file (quantized weights are stored in their quantized dtype). */
const STORED_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/**
 * Total bytes the weights described by `specs` occupy in the binary weights data, or null when that cannot
 * be known from the specs alone (string weights are stored with per-element length prefixes).
 */
export function weightSpecsByteLength(specs: readonly tf.io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const dtype = spec.quantization?.dtype ?? spec.dtype;
    if (dtype === 'string') return null;
    const bytes = STORED_BYTES[dtype];
    if (bytes === undefined) {
      throw new Error(
        `weight ${JSON.stringify(spec.name)}: unknown dtype ${JSON.stringify(dtype)}`,
      );
    }
    total += spec.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  return total;
}
