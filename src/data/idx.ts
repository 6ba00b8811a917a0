/**
 * IDX file parsing (the MNIST / Fashion-MNIST format), from bytes already in memory. Browser-safe.
 *
 * Layout: magic [0, 0, type, ndims], then ndims big-endian uint32 sizes, then the values row-major.
 * Only type 0x08 (unsigned byte) is read: every image and label file of both datasets uses it.
 */
import { byteInput, byteView, copyBytes } from '../io/bytes.js';
import { checkDecodedSize } from '../io/limits.js';
import { type Dataset, resolveLimit } from './dataset.js';

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'ubyte',
  0x09: 'byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

/** A decoded IDX array: its dimensions and its bytes (a view into the input, not a copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses an unsigned-byte IDX file; `name` (usually the path) prefixes every error message. */
export function parseIdx(input: Uint8Array | ArrayBuffer, name: string): IdxArray {
  const bytes = byteInput(input, name);
  if (bytes.length < 4) {
    throw new Error(
      `${name}: ${bytes.length} bytes is too short for an IDX header (needs at least 4)`,
    );
  }
  const magic = hex32(bytes, 0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${name}: magic number ${magic} is not an IDX file (expected 0x0000TTDD)`);
  }
  const type = bytes[2];
  const ndims = bytes[3];
  if (type !== UBYTE) {
    const typeName = TYPE_NAMES[type] ?? 'unknown';
    throw new Error(
      `${name}: IDX value type 0x${hex2(type)} (${typeName}) in magic ${magic} is not supported, only 0x08 (ubyte)`,
    );
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(
      `${name}: ${bytes.length} bytes is too short for an IDX header with ${ndims} dimensions (${headerBytes} bytes)`,
    );
  }
  const view = byteView(bytes);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const values = dims.reduce((a, b) => a * b, 1);
  // Before anything else is compared: the header alone may declare more than can be decoded.
  checkDecodedSize(name, values, `${dims.join('×')} ubyte values`);
  const expected = headerBytes + values;
  if (bytes.length !== expected) {
    throw new Error(
      `${name}: expected ${expected} bytes (${headerBytes}-byte header + ${dims.join('×')} ubyte values), ` +
        `got ${bytes.length} (${bytes.length < expected ? 'truncated' : 'trailing data'})`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Parses an idx3 image file (magic 0x00000803): count × height × width bytes. */
export function parseIdxImages(
  input: Uint8Array | ArrayBuffer,
  name: string,
): { count: number; height: number; width: number; data: Uint8Array } {
  const bytes = byteInput(input, name);
  const { dims, data } = parseIdx(bytes, name);
  if (dims.length !== 3) {
    throw new Error(
      `${name}: magic ${hex32(bytes, 0)} has ${dims.length} dimensions, expected an idx3 image file (0x00000803)`,
    );
  }
  const [count, height, width] = dims;
  if (height < 1 || width < 1) {
    throw new Error(
      `${name}: images of ${height}×${width} pixels hold nothing (header ${dims.join('×')})`,
    );
  }
  return { count, height, width, data };
}

/** Parses an idx1 label file (magic 0x00000801), checking every label is below `numClasses`. */
export function parseIdxLabels(
  input: Uint8Array | ArrayBuffer,
  name: string,
  numClasses: number,
): Uint8Array {
  const bytes = byteInput(input, name);
  const { dims, data } = parseIdx(bytes, name);
  if (dims.length !== 1) {
    throw new Error(
      `${name}: magic ${hex32(bytes, 0)} has ${dims.length} dimensions, expected an idx1 label file (0x00000801)`,
    );
  }
  const bad = data.findIndex((l) => l >= numClasses);
  if (bad >= 0) {
    throw new Error(
      `${name}: label ${data[bad]} at index ${bad} is not below numClasses = ${numClasses}`,
    );
  }
  return data;
}

/** Where two IDX files came from and what they hold, for `idxDataset`. */
export interface IdxPair {
  /** Dataset name, e.g. 'mnist/train'. */
  name: string;
  images: Uint8Array;
  imagesName: string;
  labels: Uint8Array;
  labelsName: string;
  numClasses: number;
  classNames?: readonly string[];
  limit?: number;
  /** [height, width] every image must have (a named data set's size), checked against the header. */
  imageSize?: readonly [number, number];
}

/** Builds a single-channel Dataset from an idx3 image file and its idx1 label file. */
export function idxDataset(pair: IdxPair): Dataset {
  const images = parseIdxImages(pair.images, pair.imagesName);
  const labels = parseIdxLabels(pair.labels, pair.labelsName, pair.numClasses);
  if (images.count !== labels.length) {
    throw new Error(
      `${pair.imagesName} holds ${images.count} images but ${pair.labelsName} holds ${labels.length} labels; they must match`,
    );
  }
  const want = pair.imageSize;
  if (want && (images.height !== want[0] || images.width !== want[1])) {
    throw new Error(
      `${pair.imagesName} holds ${images.height}×${images.width} images; ${pair.name} images are ${want[0]}×${want[1]}`,
    );
  }
  const n = resolveLimit(pair.limit, images.count, pair.name);
  const per = images.height * images.width;
  // With a limit, copy so the (large) file buffer can be freed; without one, keep the views.
  const limited = n < images.count;
  return {
    name: pair.name,
    images: limited ? copyBytes(images.data, 0, n * per) : images.data,
    labels: limited ? copyBytes(labels, 0, n) : labels,
    count: n,
    height: images.height,
    width: images.width,
    channels: 1,
    numClasses: pair.numClasses,
    ...(pair.classNames ? { classNames: pair.classNames } : {}),
  };
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function hex32(bytes: Uint8Array, at: number): string {
  return '0x' + Array.from(bytes.subarray(at, at + 4), hex2).join('');
}
