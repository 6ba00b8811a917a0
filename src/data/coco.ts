/**
 * Users' own data in the standard formats: COCO-style detection JSON (boxes) and PNG label masks
 * (one class index per pixel, VOC style: 0 = background, 255 = ignore), over PNG images, as a
 * SceneSet. Images are decoded by the image folders' PNG decoder (./decodePng.ts, over `fast-png`:
 * pure JS, runs in browsers too), masks by fast-png with the same header check.
 * Browser-safe: bytes in, SceneSet out; ./cocoFiles.ts reads the files in Node.
 */
import { decode } from 'fast-png';
import { IGNORE_LABEL, type SceneSet } from './scenes.js';
import { checkDecodedSize, type DecodeLimitOption } from '../io/limits.js';
import { formatValue } from '../util/formatValue.js';
import { type DecodedImage, decodePngImage } from './decodePng.js';
import { ImageFileError, type ImageHeader, readImageHeader } from './imageHeader.js';

/** One `images` entry of a COCO file. */
export interface CocoImage {
  id: number;
  fileName: string;
  width: number;
  height: number;
}

/** A COCO file's content, categories mapped to contiguous class indices 0..K−1 (sorted by id). */
export interface CocoAnnotations {
  images: CocoImage[];
  /** Category names, index = class index. */
  classNames: string[];
  /** COCO category id → class index. */
  classOfCategory: Map<number, number>;
  /** Per image id: boxes as [x0, y0, x1, y1] (COCO's [x, y, w, h] converted) and class indices. */
  boxes: Map<number, { box: [number, number, number, number]; classIndex: number }[]>;
}

/** Largest |corner coordinate| of a box: 2^24, where float32 stops holding every integer. */
export const MAX_BOX_COORDINATE = 2 ** 24;

function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Reads COCO detection JSON (`images`, `annotations` with `bbox` [x, y, w, h] and `category_id`,
 * `categories`). Crowd annotations (`iscrowd: 1`) are skipped. Errors name `where` (the file), the
 * entry and the bad value.
 */
export function parseCocoAnnotations(json: unknown, where = 'COCO annotations'): CocoAnnotations {
  if (typeof json !== 'object' || json === null)
    fail(where, `expected a JSON object, got ${formatValue(json)}`);
  const root = json as Record<string, unknown>;
  for (const key of ['images', 'annotations', 'categories']) {
    if (!Array.isArray(root[key]))
      fail(where, `"${key}" must be an array, got ${formatValue(root[key])}`);
  }
  const categories = (root.categories as Record<string, unknown>[]).map((c, i) => {
    if (!Number.isInteger(c.id) || typeof c.name !== 'string') {
      fail(
        where,
        `categories[${i}] needs an integer "id" and a string "name", got ${formatValue(c)}`,
      );
    }
    return { id: c.id as number, name: c.name as string };
  });
  categories.sort((a, b) => a.id - b.id);
  const classOfCategory = new Map(categories.map((c, i) => [c.id, i]));
  if (classOfCategory.size !== categories.length) fail(where, 'two categories share an id');
  const images = (root.images as Record<string, unknown>[]).map((im, i) => {
    if (!Number.isInteger(im.id) || typeof im.file_name !== 'string') {
      fail(
        where,
        `images[${i}] needs an integer "id" and a string "file_name", got ${formatValue(im)}`,
      );
    }
    for (const key of ['width', 'height']) {
      const v = im[key];
      if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) > 0))
        fail(where, `images[${i}].${key} must be a positive integer, got ${formatValue(v)}`);
    }
    return {
      id: im.id as number,
      fileName: im.file_name as string,
      width: im.width as number,
      height: im.height as number,
    };
  });
  // Boxes are filed by image id: two images with one id would share (and swap) their boxes.
  const firstWithId = new Map<number, number>();
  images.forEach((im, i) => {
    const first = firstWithId.get(im.id);
    if (first !== undefined)
      fail(
        where,
        `images[${i}] has id ${im.id}, as images[${first}] does; image ids must be unique`,
      );
    firstWithId.set(im.id, i);
  });
  const boxes = new Map<number, { box: [number, number, number, number]; classIndex: number }[]>(
    images.map((im) => [im.id, []]),
  );
  (root.annotations as Record<string, unknown>[]).forEach((a, i) => {
    const bbox = a.bbox as unknown[];
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(isFiniteNumber)) {
      fail(
        where,
        `annotations[${i}].bbox must be [x, y, width, height] numbers, got ${formatValue(a.bbox)}`,
      );
    }
    const [x, y, w, h] = bbox as number[];
    if (w < 0 || h < 0)
      fail(where, `annotations[${i}].bbox has a negative size: ${formatValue(bbox)}`);
    // Boxes are stored as float32 corners: 1e300 would become Infinity, and no image is 2^24 wide.
    if (![x, y, x + w, y + h].every((v) => Math.abs(v) <= MAX_BOX_COORDINATE)) {
      fail(
        where,
        `annotations[${i}].bbox ${formatValue(bbox)} has a corner beyond ±${MAX_BOX_COORDINATE} pixels`,
      );
    }
    const list = boxes.get(a.image_id as number);
    if (!list)
      fail(where, `annotations[${i}].image_id ${formatValue(a.image_id)} is not in "images"`);
    const classIndex = classOfCategory.get(a.category_id as number);
    if (classIndex === undefined) {
      fail(
        where,
        `annotations[${i}].category_id ${formatValue(a.category_id)} is not in "categories"`,
      );
    }
    if (a.iscrowd === 1) return;
    list.push({ box: [x, y, x + w, y + h], classIndex });
  });
  return { images, classNames: categories.map((c) => c.name), classOfCategory, boxes };
}

/**
 * fast-png's decode, failing with the file named. The header is read first (data/imageHeader.ts,
 * shared with the image-folder decoder) and its declared pixel bytes held to the decode cap
 * (io/limits.ts) before anything is inflated; every chunk's CRC is checked.
 */
function readPng(bytes: Uint8Array, where: string, maxBytes?: number): ReturnType<typeof decode> {
  let header: ImageHeader;
  try {
    header = readImageHeader(bytes, where);
  } catch (e) {
    fail(where, `not a readable PNG (${(e as Error).message})`);
  }
  if (header.format !== 'png') fail(where, `not a readable PNG (it is a ${header.format} file)`);
  checkDecodedSize(where, header.decodedBytes, header.detail, maxBytes);
  try {
    return decode(bytes, { checkCrc: true });
  } catch (e) {
    fail(where, `not a readable PNG (${(e as Error).message})`);
  }
}

/**
 * A decoded PNG as 8-bit pixels with `channels` channels (1: gray, 3: RGB); alpha is dropped.
 * Decoded by the image folders' PNG decoder (./decodePng.ts: header held to the decode cap, or
 * `maxBytes`, before inflating; CRCs checked), then made gray or RGB.
 */
export function decodePngPixels(
  bytes: Uint8Array,
  channels: 1 | 3,
  where = 'PNG',
  opts: DecodeLimitOption = {},
): { width: number; height: number; data: Uint8Array } {
  let png: DecodedImage;
  try {
    png = decodePngImage(bytes, where, opts);
  } catch (e) {
    if (!(e instanceof ImageFileError)) throw e;
    // "FILE: PNG damaged (why)" → "FILE: not a readable PNG (PNG damaged (why))"
    const why = e.message.startsWith(`${where}: `) ? e.message.slice(where.length + 2) : e.message;
    fail(where, `not a readable PNG (${why})`);
  }
  const { width, height, data } = png;
  if (png.channels === channels) return { width, height, data };
  const n = width * height;
  const out = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    if (channels === 1) {
      // ITU-R BT.601 luma with integer weights (299, 587, 114)/1000, as PIL's convert('L').
      const [r, g, b] = [data[3 * p], data[3 * p + 1], data[3 * p + 2]];
      out[p] = Math.floor((r * 299 + g * 587 + b * 114 + 500) / 1000);
    } else {
      out.fill(data[p], 3 * p, 3 * p + 3);
    }
  }
  return { width, height, data: out };
}

/**
 * A PNG label mask: one class index per pixel, read from a single-channel 8-bit (or palette) PNG
 * without any colour conversion (a palette PNG's indices are the classes, as in VOC).
 */
export function decodePngMask(
  bytes: Uint8Array,
  where = 'PNG mask',
  opts: DecodeLimitOption = {},
): { width: number; height: number; data: Uint8Array } {
  const png = readPng(bytes, where, opts.maxBytes);
  if (png.channels !== 1 || png.depth > 8) {
    fail(
      where,
      `a label mask must be a 1-channel PNG of ≤ 8 bits (gray or palette), got ${png.channels} channel(s) of ${png.depth} bits`,
    );
  }
  return { width: png.width, height: png.height, data: Uint8Array.from(png.data) };
}

/** What {@link cocoSceneSet} reads: the annotations and the bytes of each image (and mask) by file name. */
export interface CocoSources {
  /** Parsed annotations (`parseCocoAnnotations`). */
  annotations: CocoAnnotations;
  /** PNG bytes of each image, by its `file_name`. */
  image: (fileName: string) => Uint8Array;
  /** PNG label mask bytes of each image, by its `file_name`; omitted: the set has no masks. */
  mask?: (fileName: string) => Uint8Array;
  /** 1 (gray, default) or 3 (RGB). */
  channels?: 1 | 3;
  /** Name of the result. */
  name?: string;
  /** Largest number of bytes one image or mask may decode to (default: the decode cap). */
  maxBytes?: number;
}

/**
 * A SceneSet from COCO annotations and PNG images (all of one size, as a batch needs) and
 * optional PNG label masks of the same size. numClasses = categories + 1 (background = 0; mask value
 * k means class k, i.e. category index k − 1; 255 = ignore).
 */
export function cocoSceneSet(src: CocoSources): SceneSet {
  const { annotations } = src;
  const channels = src.channels ?? 1;
  const list = annotations.images;
  if (list.length === 0) fail(src.name ?? 'COCO set', 'it lists no images');
  let height = 0;
  let width = 0;
  const numClasses = annotations.classNames.length + 1;
  let images = new Uint8Array(0);
  const masks = src.mask ? new Uint8Array(0) : null;
  let maskBytes = masks;
  const offsets = new Uint32Array(list.length + 1);
  const coords: number[] = [];
  const classes: number[] = [];
  list.forEach((im, i) => {
    const pixels = decodePngPixels(src.image(im.fileName), channels, im.fileName, src);
    if (i === 0) {
      ({ height, width } = pixels);
      images = new Uint8Array(list.length * height * width * channels);
      if (maskBytes) maskBytes = new Uint8Array(list.length * height * width);
    } else if (pixels.height !== height || pixels.width !== width) {
      fail(
        im.fileName,
        `is ${pixels.width}×${pixels.height}, but ${list[0].fileName} is ${width}×${height}; every image of a set must have one size`,
      );
    }
    images.set(pixels.data, i * height * width * channels);
    if (maskBytes && src.mask) {
      const mask = decodePngMask(src.mask(im.fileName), `mask of ${im.fileName}`, src);
      if (mask.height !== height || mask.width !== width) {
        fail(
          `mask of ${im.fileName}`,
          `is ${mask.width}×${mask.height}, the image is ${width}×${height}`,
        );
      }
      const bad = mask.data.findIndex((v) => v >= numClasses && v !== IGNORE_LABEL);
      if (bad >= 0) {
        fail(
          `mask of ${im.fileName}`,
          `pixel ${bad} has class ${mask.data[bad]}, not below numClasses = ${numClasses} (categories + background) nor ${IGNORE_LABEL} (ignore)`,
        );
      }
      maskBytes.set(mask.data, i * height * width);
    }
    for (const { box, classIndex } of annotations.boxes.get(im.id) ?? []) {
      coords.push(...box);
      classes.push(classIndex);
    }
    offsets[i + 1] = classes.length;
  });
  return {
    name: src.name ?? 'coco',
    images,
    count: list.length,
    height,
    width,
    channels,
    numClasses,
    masks: maskBytes,
    boxes: { offsets, coords: Float32Array.from(coords), classes: Uint8Array.from(classes) },
    classNames: annotations.classNames,
  };
}
