/**
 * CIFAR-10 binary-version parsing, from bytes already in memory. Browser-safe.
 *
 * A batch file is a run of 3073-byte records: 1 label byte, then a 32×32 image as three 1024-byte planes
 * (red, green, blue), each row-major. The standard files hold 10000 records each.
 */
import { byteInput } from '../io/bytes.js';

export const CIFAR10_SIZE = 32;
export const CIFAR10_CHANNELS = 3;
/** Image bytes per record (32·32·3). */
export const CIFAR10_IMAGE_BYTES = CIFAR10_SIZE * CIFAR10_SIZE * CIFAR10_CHANNELS;
/** Label byte + image bytes. */
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_IMAGE_BYTES;
export const CIFAR10_RECORDS_PER_FILE = 10000;
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

/**
 * Checks that a batch file of `byteLength` bytes holds exactly `records` records; `name` (usually the
 * path) starts the error message. Split out so a loader can check every file's size before reading any.
 */
export function checkCifar10Size(
  byteLength: number,
  name: string,
  records = CIFAR10_RECORDS_PER_FILE,
): void {
  const expected = records * CIFAR10_RECORD_BYTES;
  if (byteLength !== expected) {
    const whole =
      byteLength % CIFAR10_RECORD_BYTES === 0
        ? `${byteLength / CIFAR10_RECORD_BYTES} whole records`
        : 'not a whole number of records';
    throw new Error(
      `${name}: expected ${expected} bytes (${records} records × ${CIFAR10_RECORD_BYTES}), got ${byteLength} (${whole})`,
    );
  }
}

/**
 * Decodes the first `take` records of a batch file into `images` (NHWC, written from record offset
 * `at`) and `labels`. Planes are CHW in the file; channels-last is what TF.js convs expect:
 * dst[(y·32 + x)·3 + c] = src[1 + c·1024 + y·32 + x].
 */
export function decodeCifar10Records(
  bytes: Uint8Array,
  name: string,
  take: number,
  images: Uint8Array,
  labels: Uint8Array,
  at = 0,
): void {
  if (!Number.isInteger(take) || take < 0 || take * CIFAR10_RECORD_BYTES > bytes.length) {
    throw new Error(
      `${name}: cannot decode ${take} records from ${bytes.length} bytes (${CIFAR10_RECORD_BYTES} per record)`,
    );
  }
  const plane = CIFAR10_SIZE * CIFAR10_SIZE;
  for (let r = 0; r < take; r++) {
    const src = r * CIFAR10_RECORD_BYTES;
    const label = bytes[src];
    if (label >= CIFAR10_CLASSES.length) {
      throw new Error(
        `${name}: record ${r} has label ${label}; CIFAR-10 labels are 0..9 ` +
          `(CIFAR-100's binary files have 2 label bytes per record and are not this format)`,
      );
    }
    labels[at + r] = label;
    const dst = (at + r) * CIFAR10_IMAGE_BYTES;
    for (let c = 0; c < CIFAR10_CHANNELS; c++) {
      const planeStart = src + 1 + c * plane;
      for (let p = 0; p < plane; p++)
        images[dst + p * CIFAR10_CHANNELS + c] = bytes[planeStart + p];
    }
  }
}

/** Parses one whole batch file holding `records` records into NHWC images and labels. */
export function parseCifar10Batch(
  input: Uint8Array | ArrayBuffer,
  name: string,
  records = CIFAR10_RECORDS_PER_FILE,
): { images: Uint8Array; labels: Uint8Array; count: number } {
  const bytes = byteInput(input, name);
  checkCifar10Size(bytes.length, name, records);
  const images = new Uint8Array(records * CIFAR10_IMAGE_BYTES);
  const labels = new Uint8Array(records);
  decodeCifar10Records(bytes, name, records, images, labels);
  return { images, labels, count: records };
}
