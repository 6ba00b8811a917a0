/**
 * PNG and JPEG files → 8-bit pixels, grayscale (1 channel) or RGB (3), with the declared size
 * checked against the decode cap (io/limits.ts) before the decoder allocates. Node-only (the JPEG
 * decoder's wasm is read from node_modules).
 *
 * Decoders: PNG by fast-png (pure JS, already doconv's dependency, CRCs checked; ./decodePng.ts,
 * shared with COCO sets); JPEG by
 * @jsquash/jpeg (MozJPEG, i.e. libjpeg-turbo, compiled to wasm; 0.6 MB installed, runs in Node and
 * browsers). docs/images.md has the measurements behind the choice against jpeg-js (pure JS, 4–8×
 * slower) and sharp (libvips, ~1.3× faster but 20 MB of native binaries per platform).
 *
 * What every decoded image becomes: 8 bits per sample (16-bit PNG keeps the high byte, 1/2/4-bit
 * gray is scaled to 0..255, a palette is expanded), alpha dropped (as PIL's convert('RGB') and
 * Keras' load_img do: the colour under a transparent pixel is kept, not blended onto a background).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { checkDecodedSize, type DecodeLimitOption } from '../io/limits.js';
import { type DecodedImage, dropAlpha, pngPixels } from './decodePng.js';
import { ImageFileError, type ImageHeader, readImageHeader } from './imageHeader.js';

export type { DecodedImage } from './decodePng.js';

/** Decodes a PNG or JPEG held in `bytes` (`file` names it in errors) to gray or RGB bytes. */
export async function decodeImage(
  bytes: Uint8Array,
  file: string,
  opts: DecodeLimitOption = {},
): Promise<DecodedImage> {
  const header = readImageHeader(bytes, file);
  checkDecodedSize(file, header.decodedBytes, header.detail, opts.maxBytes);
  return header.format === 'png' ? pngPixels(bytes, file, header) : jpegPixels(bytes, file, header);
}

/** Reads and decodes the image file `file`. */
export async function readImage(file: string, opts: DecodeLimitOption = {}): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageFileError(
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  return decodeImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file, opts);
}

// --- JPEG ---------------------------------------------------------------------------------------

type JpegDecode = (
  buffer: ArrayBuffer,
) => Promise<{ data: Uint8ClampedArray; width: number; height: number }>;

/** MozJPEG's warnings during the current decode ("Corrupt JPEG data: …"), collected per call. */
let jpegWarnings: string[] = [];
let jpegDecoder: Promise<JpegDecode> | null = null;

/**
 * The wasm decoder, compiled once from the package's file: its loader would fetch() the .wasm by
 * URL, which Node cannot do for a file. libjpeg reports damaged data as warnings on stderr and
 * decodes on; they are caught here and made errors.
 */
function loadJpegDecoder(): Promise<JpegDecode> {
  jpegDecoder ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmFile = require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm');
    const wasm = await WebAssembly.compile(await readFile(wasmFile));
    const jsquash = await import('@jsquash/jpeg/decode.js');
    // Its .d.ts declares init(options); the code takes init(wasmModule, options).
    const init = jsquash.init as unknown as (wasm: WebAssembly.Module, opts: object) => void;
    init(wasm, {
      print: (line: string) => jpegWarnings.push(line),
      printErr: (line: string) => jpegWarnings.push(line),
    });
    return jsquash.default as unknown as JpegDecode;
  })();
  return jpegDecoder;
}

/** JPEG decodes one at a time, so each one's warnings are its own. */
let jpegQueue: Promise<unknown> = Promise.resolve();

async function jpegPixels(
  bytes: Uint8Array,
  file: string,
  header: ImageHeader,
): Promise<DecodedImage> {
  const decode = await loadJpegDecoder();
  const run = jpegQueue.then(() => decodeCatchingWarnings(decode, bytes, file));
  jpegQueue = run.catch(() => {});
  const rgba = await run;
  const { width, height } = rgba;
  if (width !== header.width || height !== header.height) {
    throw new ImageFileError(
      `${file}: JPEG decoded to ${width}×${height}, its header says ${header.width}×${header.height}`,
    );
  }
  const data = new Uint8Array(rgba.data.buffer, rgba.data.byteOffset, rgba.data.byteLength);
  return dropAlpha(data, width, height, 4, header.channels);
}

async function decodeCatchingWarnings(
  decode: JpegDecode,
  bytes: Uint8Array,
  file: string,
): Promise<{ data: Uint8ClampedArray; width: number; height: number }> {
  jpegWarnings = [];
  try {
    const rgba = await decode(bytes.slice().buffer); // an ArrayBuffer of exactly the file
    if (jpegWarnings.length > 0) throw new Error(jpegWarnings.join('; '));
    return rgba;
  } catch (e) {
    const why = jpegWarnings.length > 0 ? jpegWarnings.join('; ') : (e as Error).message;
    throw new ImageFileError(`${file}: JPEG damaged (${why})`);
  } finally {
    jpegWarnings = [];
  }
}
