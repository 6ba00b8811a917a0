/**
 * The in-memory shape every dataset loader returns, and cheap views on it. Browser-safe.
 *
 * Pixels stay Uint8 (1 byte each: MNIST train is 47 MB, CIFAR-10 train 154 MB); conversion to float
 * tensors happens per batch (batches.ts), so a float copy of the whole set never exists.
 */

/** A labelled image classification dataset, images stored NHWC as bytes 0..255. */
export interface Dataset {
  /** What it is, e.g. 'mnist/train'; used in error messages. */
  name: string;
  /** count × height × width × channels bytes, image after image, each row-major with channels last. */
  images: Uint8Array;
  /** One class index (0 .. numClasses-1) per image. */
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  /** Human-readable class names, index = label, when known. */
  classNames?: readonly string[];
}

/** The part of a Dataset describing image geometry. */
export interface ImageShape {
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** Options shared by every loader. */
export interface LimitOption {
  /** Keep only the first N examples (all when omitted or larger than the set). */
  limit?: number;
}

/** Throws unless `ds` is internally consistent (array lengths, label range). */
export function checkDataset(ds: Dataset): void {
  const where = `dataset ${JSON.stringify(ds.name)}`;
  for (const key of ['count', 'height', 'width', 'channels', 'numClasses'] as const) {
    if (!Number.isInteger(ds[key]) || ds[key] < 0) {
      throw new Error(
        `${where}: ${key} must be a non-negative integer, got ${JSON.stringify(ds[key])}`,
      );
    }
  }
  const pixels = ds.count * ds.height * ds.width * ds.channels;
  if (ds.images.length !== pixels) {
    throw new Error(
      `${where}: images has ${ds.images.length} bytes, expected count×height×width×channels = ` +
        `${ds.count}×${ds.height}×${ds.width}×${ds.channels} = ${pixels}`,
    );
  }
  if (ds.labels.length !== ds.count) {
    throw new Error(
      `${where}: labels has ${ds.labels.length} entries, expected count = ${ds.count}`,
    );
  }
  const bad = ds.labels.findIndex((l) => l >= ds.numClasses);
  if (bad >= 0) {
    throw new Error(
      `${where}: label ${ds.labels[bad]} at index ${bad} is not below numClasses = ${ds.numClasses}`,
    );
  }
}

/** Checks a `limit` option and returns how many of `available` examples to keep. */
export function resolveLimit(limit: number | undefined, available: number, what: string): number {
  if (limit === undefined) return available;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new Error(`${what}: limit must be a non-negative integer, got ${JSON.stringify(limit)}`);
  }
  return Math.min(limit, available);
}

/**
 * Examples [start, end) as a new Dataset. `copy: false` returns views sharing the parent's memory
 * (cheap; keeps the whole parent buffer alive); the default copies, so a small slice of a big file lets
 * the big buffer be garbage-collected.
 */
export function sliceDataset(
  ds: Dataset,
  start: number,
  end = ds.count,
  opts: { copy?: boolean } = {},
): Dataset {
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    end < start ||
    end > ds.count
  ) {
    throw new Error(
      `sliceDataset(${JSON.stringify(ds.name)}): need 0 ≤ start ≤ end ≤ ${ds.count}, got start=${start}, end=${end}`,
    );
  }
  const per = ds.height * ds.width * ds.channels;
  const take = <T extends Uint8Array>(a: T, from: number, to: number) =>
    opts.copy === false ? a.subarray(from, to) : a.slice(from, to);
  return {
    ...ds,
    name: start === 0 && end === ds.count ? ds.name : `${ds.name}[${start}:${end}]`,
    images: take(ds.images, start * per, end * per),
    labels: take(ds.labels, start, end),
    count: end - start,
  };
}

/** The first `limit` examples (the whole set, uncopied, when limit is undefined or ≥ count). */
export function takeFirst(ds: Dataset, limit: number | undefined): Dataset {
  const n = resolveLimit(limit, ds.count, ds.name);
  return n === ds.count ? ds : sliceDataset(ds, 0, n);
}
