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

/** Quantized storage dtypes tfjs decodes, and whether they need `scale` and `min`. */
const QUANTIZED: Record<string, boolean> = { uint8: true, uint16: true, float16: false };

/**
 * Checks a weights manifest's entries before tfjs decodes them, naming `where` and the weight: a
 * string `name`, a `shape` of non-negative integers, a known `dtype`, and a `quantization` tfjs can
 * undo — uint8/uint16 with finite `scale` and `min` (a null scale would decode every value as 0)
 * (float32 or int32 weights), or float16 (float32 weights). tfjs itself checks none of this.
 */
export function checkWeightSpecs(
  specs: readonly tf.io.WeightsManifestEntry[],
  where: string,
): void {
  specs.forEach((spec, i) => {
    const at = `${where}: weights[${i}]`;
    if (spec === null || typeof spec !== 'object') throw new Error(`${at} is not an object`);
    if (typeof spec.name !== 'string' || spec.name === '')
      throw new Error(`${at}: name must be a non-empty string, got ${JSON.stringify(spec.name)}`);
    const named = `${where}: weight ${JSON.stringify(spec.name)}`;
    if (!Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new Error(
        `${named}: shape must be an array of non-negative integers, got ${JSON.stringify(spec.shape)}`,
      );
    if (STORED_BYTES[spec.dtype] === undefined && spec.dtype !== 'string')
      throw new Error(`${named}: unknown dtype ${JSON.stringify(spec.dtype)}`);
    const q = spec.quantization;
    if (q == null) return;
    if (typeof q !== 'object' || !(q.dtype in QUANTIZED))
      throw new Error(
        `${named}: quantization dtype must be uint8, uint16 or float16, got ${JSON.stringify((q as { dtype?: unknown })?.dtype)}`,
      );
    const dequantized = QUANTIZED[q.dtype] ? ['float32', 'int32'] : ['float32'];
    if (!dequantized.includes(spec.dtype))
      throw new Error(
        `${named}: ${q.dtype} quantization is for ${dequantized.join(' or ')} weights, not ${spec.dtype}`,
      );
    if (QUANTIZED[q.dtype]) {
      for (const key of ['scale', 'min'] as const) {
        if (typeof q[key] !== 'number' || !Number.isFinite(q[key]))
          throw new Error(
            `${named}: ${q.dtype} quantization needs a finite number '${key}', got ${JSON.stringify(q[key]) ?? 'undefined'}`,
          );
      }
    }
  });
}
