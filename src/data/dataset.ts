/**
 * The in-memory shape every dataset loader returns, and cheap views on it. Browser-safe.
 *
 * Pixels stay Uint8 (1 byte each: MNIST train is 47 MB, CIFAR-10 train 154 MB); conversion to float
 * tensors happens per batch (batches.ts), so a float copy of the whole set never exists.
 */

/**
 * Images that live outside memory (an image folder's on-disk cache, imageCache.ts): the batcher
 * reads the ones it needs. Image i is height × width × channels bytes, laid out as in `images`.
 */
export interface ImageRows {
  /** How many images. */
  count: number;
  /** Bytes of one image (height × width × channels). */
  imageBytes: number;
  /** Where they are (a file), for messages. */
  where: string;
  /** Copies the images at `indices` into `out`, one after another. */
  read(indices: ArrayLike<number>, out: Uint8Array): void;
}

/** A labelled image classification dataset, images stored NHWC as bytes 0..255. */
export interface Dataset {
  /** What it is, e.g. 'mnist/train'; used in error messages. */
  name: string;
  /**
   * count × height × width × channels bytes, image after image, each row-major with channels last.
   * A dataset with `rows` has no such array: reading `images` throws; use `readImages`.
   */
  images: Uint8Array;
  /** Set when the images are not in memory (an image folder over its memory budget). */
  rows?: ImageRows;
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
  if (ds.rows !== undefined) {
    const per = ds.height * ds.width * ds.channels;
    if (ds.rows.count !== ds.count || ds.rows.imageBytes !== per) {
      throw new Error(
        `${where}: ${ds.rows.where} holds ${ds.rows.count} images of ${ds.rows.imageBytes} bytes, expected ${ds.count} of ${per}`,
      );
    }
  } else if (ds.images.length !== pixels) {
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
  const name = start === 0 && end === ds.count ? ds.name : `${ds.name}[${start}:${end}]`;
  if (ds.rows !== undefined) {
    const base = ds.rows;
    const rows: ImageRows = {
      count: end - start,
      imageBytes: base.imageBytes,
      where: base.where,
      read: (indices, out) =>
        base.read(
          Array.from(indices, (i) => i + start),
          out,
        ),
    };
    return withRows({ ...ds, name, labels: take(ds.labels, start, end), count: end - start }, rows);
  }
  return {
    ...ds,
    name,
    images: take(ds.images, start * per, end * per),
    labels: take(ds.labels, start, end),
    count: end - start,
  };
}

/**
 * `fields` as a Dataset whose images are read from `rows`. Its `images` throws (naming where the
 * images are) rather than reading as an empty array: code that needs them all in memory fails
 * loudly instead of training on zeros. The property is not enumerable, so spreading the dataset
 * (`{...ds}`) does not trip it.
 */
export function withRows<T extends Omit<Dataset, 'images' | 'rows'>>(
  fields: T & { images?: unknown; rows?: unknown },
  rows: ImageRows,
): T & Dataset {
  const ds = { ...fields, rows } as unknown as T & Dataset;
  delete (ds as { images?: unknown }).images;
  Object.defineProperty(ds, 'images', {
    enumerable: false,
    get() {
      throw new Error(
        `dataset ${JSON.stringify(fields.name)}: its images are not in memory but in ${rows.where}; read them with readImages(ds, indices)`,
      );
    },
  });
  return ds;
}

/** The images at `indices`, one after another, into `out` (new when omitted), in memory or not. */
export function readImages(ds: Dataset, indices: ArrayLike<number>, out?: Uint8Array): Uint8Array {
  const per = ds.height * ds.width * ds.channels;
  const bytes = out ?? new Uint8Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= ds.count) {
      throw new Error(
        `dataset ${JSON.stringify(ds.name)}: index ${k} is outside 0..${ds.count - 1}`,
      );
    }
  }
  if (ds.rows !== undefined) {
    ds.rows.read(indices, bytes);
    return bytes;
  }
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    bytes.set(ds.images.subarray(k * per, (k + 1) * per), i * per);
  }
  return bytes;
}

/** The first `limit` examples (the whole set, uncopied, when limit is undefined or ≥ count). */
export function takeFirst(ds: Dataset, limit: number | undefined): Dataset {
  const n = resolveLimit(limit, ds.count, ds.name);
  return n === ds.count ? ds : sliceDataset(ds, 0, n);
}
