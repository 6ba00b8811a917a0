/**
 * The one size cap, and where it comes from. Browser-safe; imports nothing of doconv's, so every
 * floor can use it: the readers (src/io/limits.ts: what a file declares it decodes to), the layers
 * (the weights a layer's args declare), the model.json check, and the commands whose counts size
 * what they allocate.
 *
 * Why one cap: a few characters can declare gigabytes — a PNG header, `units: 2e9` in a model.json,
 * `--steps 1000000000000`. Without a check before the allocation, the process either runs out of
 * memory or fails deep inside with "Invalid typed array length: 9216000000000", naming nothing.
 *
 * The cap is, first found: the caller's `maxBytes` option where one is taken, the environment
 * variable `DOCONV_MAX_DECODED_BYTES` (bytes, or with a K/M/G/T suffix: `4G`), or 1 GiB — above
 * every file of the data sets doconv reads and far above every weight of its zoo nets, and a quarter
 * of a wasm instance's 4 GiB heap.
 */

import { OptionError, type OptionNamer } from './optionError.js';

/** 1 GiB: the cap when neither an option nor the environment variable sets one. */
export const DEFAULT_MAX_DECODED_BYTES = 2 ** 30;

/** The environment variable that raises (or lowers) the cap for a whole process. */
export const MAX_DECODED_BYTES_ENV = 'DOCONV_MAX_DECODED_BYTES';

/** Something declared more than the cap: `declared` bytes against `limit`. */
export class DecodeLimitError extends Error {
  constructor(
    message: string,
    readonly declared: number,
    readonly limit: number,
  ) {
    super(message);
    this.name = 'DecodeLimitError';
  }
}

const SUFFIX: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * Parses a cap as written in the environment variable: digits with an optional K, M, G or T suffix
 * (powers of 1024, case-insensitive). Anything else is an error naming the variable and the value.
 */
export function parseByteCount(text: string, what = MAX_DECODED_BYTES_ENV): number {
  const m = /^([0-9]+)([KMGT]?)$/i.exec(text);
  const bytes = m ? Number(m[1]) * SUFFIX[m[2].toUpperCase()] : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new Error(
      `${what}: expected a positive number of bytes (digits, optionally followed by K, M, G or T), got ${JSON.stringify(text)}`,
    );
  }
  return bytes;
}

/** The cap in effect: `maxBytes` if given, else the environment variable, else the default. */
export function decodeLimitBytes(maxBytes?: number): number {
  if (maxBytes !== undefined) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new Error(`maxBytes: expected a positive integer, got ${String(maxBytes)}`);
    }
    return maxBytes;
  }
  const env = typeof process !== 'undefined' ? process.env?.[MAX_DECODED_BYTES_ENV] : undefined;
  return env === undefined || env === '' ? DEFAULT_MAX_DECODED_BYTES : parseByteCount(env);
}

/** How to raise the cap, as every refusal ends. */
export const RAISE_THE_CAP = `raise it with ${MAX_DECODED_BYTES_ENV}=N, in bytes or with a K/M/G suffix`;

/** Bytes of one float32 value: the unit weights and image batches are counted in. */
const FLOAT32_BYTES = 4;

/**
 * Refuses `elements` float32 values that `what` declares before anything is allocated: "layer
 * "dense_1" (Dense): units 2000000000 × 4608 inputs = 9216000000000 weights (36864000000000
 * bytes), over the size limit …". Compute `elements` in float64 — exact up to 2^53, and anything
 * above is over any cap. NaN (a product with an unknown) is refused too.
 */
export function checkFloat32Count(what: string, elements: number, detail: string): void {
  checkAllocation(what, elements * FLOAT32_BYTES, `${detail} = ${elements} float32 values`);
}

/**
 * Refuses `bytes` that `what` would allocate (`detail` says how they were counted, e.g.
 * "--steps 1000000000000 × --batch-size 32 images of 784 bytes") before the allocation.
 */
export function checkAllocation(what: string, bytes: number, detail: string): void {
  const limit = decodeLimitBytes();
  if (!(bytes <= limit)) {
    throw new DecodeLimitError(
      `${what}: ${detail} (${bytes} bytes), over the size limit of ${limit} bytes (${RAISE_THE_CAP})`,
      bytes,
      limit,
    );
  }
}

/**
 * Refuses `bytes` that options would have allocated, as an OptionError naming them (the CLI shows
 * its flags): `detail(n)` says how they were counted, spelling each option as `n(option, value)`.
 */
export function checkOptionAllocation(
  options: readonly string[],
  bytes: number,
  detail: (n: OptionNamer) => string,
): void {
  const limit = decodeLimitBytes();
  if (!(bytes <= limit)) {
    throw new OptionError(
      options,
      (n) =>
        `${detail(n)} = ${bytes} bytes, over the size limit of ${limit} bytes ` +
        `(lower ${options.map((o) => n(o)).join(' or ')}, or ${RAISE_THE_CAP})`,
    );
  }
}
