/**
 * PNG files → 8-bit pixels, grayscale (1 channel) or RGB (3), with the declared size checked against
 * the decode cap (io/limits.ts) before fast-png allocates; every chunk's CRC is checked.
 * Browser-safe and synchronous: the one PNG path of the image-folder decoder (./decodeImage.ts,
 * which adds JPEG) and of COCO sets (./coco.ts).
 *
 * What every decoded image becomes: 8 bits per sample (16-bit PNG keeps the high byte, 1/2/4-bit
 * gray is scaled to 0..255, a palette is expanded), alpha dropped (as PIL's convert('RGB') and
 * Keras' load_img do: the colour under a transparent pixel is kept, not blended onto a background).
 */
import { decode as decodePng, convertIndexedToRgb, type DecodedPng } from 'fast-png';
import { checkDecodedSize, type DecodeLimitOption } from '../io/limits.js';
import { ImageFileError, type ImageHeader, readImageHeader } from './imageHeader.js';

/** Pixels row-major, channels last (H×W×C), 0..255. */
export interface DecodedImage {
  data: Uint8Array;
  height: number;
  width: number;
  /** 1: grayscale, 3: RGB. */
  channels: 1 | 3;
}

/**
 * Decodes the PNG held in `bytes` (`file` names it in errors) to gray or RGB bytes, as its header
 * says; throws an ImageFileError for anything else, a DecodeLimitError past the cap.
 */
export function decodePngImage(
  bytes: Uint8Array,
  file: string,
  opts: DecodeLimitOption = {},
): DecodedImage {
  const header = readImageHeader(bytes, file);
  if (header.format !== 'png') {
    throw new ImageFileError(`${file}: not a PNG (it is a ${header.format} file)`);
  }
  checkDecodedSize(file, header.decodedBytes, header.detail, opts.maxBytes);
  return pngPixels(bytes, file, header);
}

/** A PNG whose header has been read and held to the cap. */
export function pngPixels(bytes: Uint8Array, file: string, header: ImageHeader): DecodedImage {
  let png: DecodedPng;
  try {
    png = decodePng(bytes, { checkCrc: true });
  } catch (e) {
    throw new ImageFileError(`${file}: PNG damaged (${(e as Error).message})`);
  }
  const { width, height } = png;
  const pixels = width * height;
  let samples: Uint8Array;
  let perPixel = png.channels;
  if (png.palette !== undefined) {
    samples = convertIndexedToRgb(png);
    perPixel = png.palette[0].length; // 3, or 4 with a tRNS chunk
  } else if (png.depth === 16) {
    samples = new Uint8Array(png.data.length);
    for (let i = 0; i < samples.length; i++) samples[i] = png.data[i] >> 8;
  } else if (png.depth < 8) {
    samples = unpackGray(png.data as Uint8Array, width, height, png.depth);
  } else {
    samples = png.data as Uint8Array;
  }
  if (samples.length < pixels * perPixel) {
    throw new ImageFileError(
      `${file}: PNG damaged (${samples.length} samples for ${width}×${height}×${perPixel})`,
    );
  }
  return dropAlpha(samples, width, height, perPixel, header.channels);
}

/** Gray PNG rows of 1, 2 or 4 bits per pixel (each row starting on a byte) → 0..255 bytes. */
function unpackGray(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const max = (1 << depth) - 1;
  const scale = 255 / max;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      const value = (byte >> (8 - depth - (bit & 7))) & max;
      out[y * width + x] = Math.round(value * scale);
    }
  }
  return out;
}

/** Keeps the first `channels` (1 or 3) samples of each pixel of `perPixel`: gray or RGB, no alpha. */
export function dropAlpha(
  samples: Uint8Array,
  width: number,
  height: number,
  perPixel: number,
  channels: 1 | 3,
): DecodedImage {
  if (perPixel === channels) {
    return { data: samples.slice(0, width * height * channels), width, height, channels };
  }
  const data = new Uint8Array(width * height * channels);
  for (let p = 0, i = 0; p < width * height; p++) {
    for (let c = 0; c < channels; c++) data[i++] = samples[p * perPixel + c];
  }
  return { data, width, height, channels };
}
