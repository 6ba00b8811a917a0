/**
 * The one cap on how many bytes doconv decodes from a file it did not write. Browser-safe.
 *
 * Why: a small file can declare a huge payload — an IDX header of 65 535³ bytes, a gzip bomb, a PNG
 * of 40 000 × 40 000 pixels, a 3 GB COCO JSON. Every reader compares what the file *declares* (header
 * dimensions × element size, inflated bytes so far, width × height × channels, file size) with this
 * one cap before it allocates or decodes, and refuses with an error naming the file, what it
 * declares and how to raise the cap.
 *
 * The cap is, first found: the caller's `maxBytes` option, the environment variable
 * `DOCONV_MAX_DECODED_BYTES` (bytes, or with a K/M/G suffix: `4G`), or 1 GiB — above every file of
 * the data sets doconv reads (CIFAR-10's largest file is 31 MB, MNIST's 47 MB decoded, COCO 2017's
 * instances_train2017.json 448 MB).
 */

import { DecodeLimitError, decodeLimitBytes, MAX_DECODED_BYTES_ENV } from '../util/sizeLimit.js';

// The cap itself (its default, the environment variable, its parser) lives in util/sizeLimit.ts,
// shared with the layers and the model.json check.
export {
  DEFAULT_MAX_DECODED_BYTES,
  DecodeLimitError,
  decodeLimitBytes,
  MAX_DECODED_BYTES_ENV,
  parseByteCount,
} from '../util/sizeLimit.js';

/** An option accepted by every reader that decodes a file. */
export interface DecodeLimitOption {
  /** Largest number of bytes one file may decode to (default: `decodeLimitBytes()`). */
  maxBytes?: number;
}

/**
 * Refuses a payload before it is decoded: `file` declares `declared` bytes (`detail` says how they
 * were counted, e.g. "60000×28×28 ubyte values"). Call it with the product computed in float64 —
 * the comparison is exact up to 2^53, and anything above is over any cap.
 */
export function checkDecodedSize(
  file: string,
  declared: number,
  detail: string,
  maxBytes?: number,
): void {
  const limit = decodeLimitBytes(maxBytes);
  if (!(declared <= limit)) {
    throw overLimit(`${file}: declares ${detail} = ${declared} bytes, over`, declared, limit);
  }
}

/**
 * The error for data found to exceed the cap while it is decoded (gzip inflating past it), when no
 * size was declared up front: `what` names the file and what grew.
 */
export function decodedPastLimit(what: string, limit: number): DecodeLimitError {
  return overLimit(`${what} past`, Infinity, limit);
}

function overLimit(text: string, declared: number, limit: number): DecodeLimitError {
  return new DecodeLimitError(
    `${text} the decode limit of ${limit} bytes ` +
      `(raise it with ${MAX_DECODED_BYTES_ENV}=N, in bytes or with a K/M/G suffix, or the maxBytes option)`,
    declared,
    limit,
  );
}
