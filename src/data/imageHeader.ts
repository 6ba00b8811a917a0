/**
 * What an image file declares before it is decoded: its format (from the magic bytes, never the
 * extension), width, height and whether it is grayscale. Browser-safe.
 *
 * Why hand-written: the declared size must be checked against the decode cap (io/limits.ts) before
 * a decoder allocates anything, and the loaders need the colour kind of every file (a grayscale JPEG
 * in an RGB set) without decoding it. `image-size` on npm reads width and height but not the
 * channel count; the two headers are a few fixed fields (PNG's IHDR chunk, JPEG's SOF segment).
 */

/** The formats doconv decodes. */
export type ImageFormat = 'png' | 'jpeg';

/** What a file declares. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** 1 for a grayscale image (PNG gray, gray + alpha; JPEG with one component), else 3. */
  channels: 1 | 3;
  /**
   * Bytes the decoder allocates for the pixels (PNG: its samples at its bit depth; JPEG: RGBA, what
   * the decoder returns), the number compared with the decode cap.
   */
  decodedBytes: number;
  /** How decodedBytes was counted, for the cap's error message. */
  detail: string;
}

/** A file that is not a PNG or JPEG doconv can read; the message names the file. */
export class ImageFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageFileError';
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Reads the header of a PNG or JPEG file's bytes; throws an ImageFileError naming `file`. */
export function readImageHeader(bytes: Uint8Array, file: string): ImageHeader {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return pngHeader(bytes, file);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegHeader(bytes, file);
  const start = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ImageFileError(
    `${file}: not a PNG or JPEG file (it starts with ${bytes.length > 0 ? start : 'nothing: the file is empty'})`,
  );
}

/** PNG colour type → samples per pixel (0 gray, 2 RGB, 3 palette index, 4 gray + alpha, 6 RGBA). */
const PNG_SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function pngHeader(bytes: Uint8Array, file: string): ImageHeader {
  // signature (8) · IHDR length (4) · "IHDR" (4) · width (4) · height (4) · bit depth · colour type
  if (bytes.length < 8 + 8 + 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
    throw new ImageFileError(`${file}: PNG without an IHDR header chunk (truncated or damaged)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const colourType = bytes[25];
  const samples = PNG_SAMPLES[colourType];
  if (samples === undefined || ![1, 2, 4, 8, 16].includes(depth)) {
    throw new ImageFileError(
      `${file}: PNG with colour type ${colourType} and bit depth ${depth}, not a valid combination`,
    );
  }
  checkDimensions(file, 'PNG', width, height);
  const bytesPerSample = depth === 16 ? 2 : 1;
  return {
    format: 'png',
    width,
    height,
    channels: colourType === 0 || colourType === 4 ? 1 : 3,
    decodedBytes: width * height * samples * bytesPerSample,
    detail: `a ${width}×${height} PNG of ${samples} sample(s) × ${bytesPerSample} byte(s) per pixel`,
  };
}

/** Start-of-frame markers: C0–CF except C4 (DHT), C8 (JPG extension) and CC (DAC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegHeader(bytes: Uint8Array, file: string): ImageHeader {
  let at = 2;
  let frame: { width: number; height: number; components: number } | null = null;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) {
      throw new ImageFileError(`${file}: JPEG damaged (no marker at byte ${at})`);
    }
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (isStartOfFrame(marker) && at + 10 <= bytes.length) {
      frame = {
        height: (bytes[at + 5] << 8) | bytes[at + 6],
        width: (bytes[at + 7] << 8) | bytes[at + 8],
        components: bytes[at + 9],
      };
    }
    if (marker === 0xda) return jpegFrame(bytes, file, frame, at + 2 + length);
    at += 2 + length;
  }
  throw new ImageFileError(`${file}: JPEG truncated before its image data (no start of scan)`);
}

function jpegFrame(
  bytes: Uint8Array,
  file: string,
  frame: { width: number; height: number; components: number } | null,
  scanStart: number,
): ImageHeader {
  if (frame === null) {
    throw new ImageFileError(`${file}: JPEG without a frame header (SOF) before its image data`);
  }
  const { width, height, components } = frame;
  if (components !== 1 && components !== 3) {
    throw new ImageFileError(
      `${file}: JPEG with ${components} colour components (CMYK?); only grayscale (1) and YCbCr/RGB (3) are read`,
    );
  }
  checkDimensions(file, 'JPEG', width, height);
  // In the entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so the
  // pair FF D9 after the start of scan is the end-of-image marker: a truncated file has none (the
  // decoder would fill the missing rows with gray and only warn).
  if (!hasEndOfImage(bytes, scanStart)) {
    throw new ImageFileError(`${file}: JPEG truncated (no end-of-image marker after its data)`);
  }
  return {
    format: 'jpeg',
    width,
    height,
    channels: components === 1 ? 1 : 3,
    decodedBytes: width * height * 4,
    detail: `a ${width}×${height} JPEG decoded to 4 bytes (RGBA) per pixel`,
  };
}

function hasEndOfImage(bytes: Uint8Array, from: number): boolean {
  for (let i = bytes.length - 2; i >= from; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

function checkDimensions(file: string, format: string, width: number, height: number): void {
  if (width < 1 || height < 1) {
    throw new ImageFileError(`${file}: ${format} declares a ${width}×${height} image (empty)`);
  }
}
