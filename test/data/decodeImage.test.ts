/**
 * PNG/JPEG headers and decoding (against the pixels the files were written from), bad files named in
 * errors, the decode cap checked before decoding, and the bilinear resize against TF.js's
 * resizeBilinear (half-pixel centres) on the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { encode as encodePng } from 'fast-png';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, readImage } from '../../src/data/decodeImage.js';
import { readImageHeader } from '../../src/data/imageHeader.js';
import { convertChannels, resizeBilinear } from '../../src/data/resizeImage.js';
import { DecodeLimitError } from '../../src/io/limits.js';
import { mnistDigits, type RawImage, tintedRgb, writeJpeg, writePng } from './imageFiles.js';

let dir: string;
let digit: RawImage;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'doconv-decode-'));
  digit = (await mnistDigits(1))[0].image;
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const bytesOf = async (file: string) => new Uint8Array(await fs.readFile(file));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('decodeImage', () => {
  it('reads gray and RGB PNGs back exactly, and says their size and channels', async () => {
    for (const img of [digit, tintedRgb(digit)]) {
      const file = path.join(dir, `exact-${img.channels}.png`);
      await writePng(file, img);
      const bytes = await bytesOf(file);
      expect(readImageHeader(bytes, file)).toMatchObject({
        format: 'png',
        width: 28,
        height: 28,
        channels: img.channels,
      });
      const out = await decodeImage(bytes, file);
      expect(out).toMatchObject({ width: 28, height: 28, channels: img.channels });
      expect(Array.from(out.data)).toEqual(Array.from(img.data));
    }
  });

  it('drops alpha, keeps the high byte of 16-bit samples and scales 1-bit gray to 0..255', async () => {
    const rgba = new Uint8Array([10, 20, 30, 0, 40, 50, 60, 255]);
    const a = encodePng({ width: 2, height: 1, data: rgba, channels: 4, depth: 8 });
    expect(Array.from((await decodeImage(a, 'rgba.png')).data)).toEqual([10, 20, 30, 40, 50, 60]);
    const wide = new Uint16Array([0x1234, 0xff00]);
    const b = encodePng({ width: 2, height: 1, data: wide, channels: 1, depth: 16 });
    expect(Array.from((await decodeImage(b, 'gray16.png')).data)).toEqual([0x12, 0xff]);
    // 1-bit rows: 10100000 → pixels 1, 0, 1 → 255, 0, 255
    const c = encodePng({
      width: 3,
      height: 1,
      data: new Uint8Array([0b10100000]),
      channels: 1,
      depth: 1,
    });
    expect(Array.from((await decodeImage(c, 'bits.png')).data)).toEqual([255, 0, 255]);
  });

  it('decodes gray and colour JPEGs close to what was encoded (quality 95)', async () => {
    for (const img of [digit, tintedRgb(digit)]) {
      const file = path.join(dir, `lossy-${img.channels}.jpg`);
      await writeJpeg(file, img);
      const out = await readImage(file);
      expect(out).toMatchObject({ width: 28, height: 28, channels: img.channels });
      // JPEG is lossy: sharp digit edges move by a few levels; the mean error stays small.
      const mean = out.data.reduce((s, v, i) => s + Math.abs(v - img.data[i]), 0) / out.data.length;
      expect(mean).toBeLessThan(3);
      expect(maxDiff(out.data, img.data)).toBeLessThan(48);
    }
  });

  it('refuses a text file named .png, an empty file, a truncated JPEG and a PNG with a bad CRC, naming the file', async () => {
    const text = path.join(dir, 'notes.png');
    await fs.writeFile(text, 'not an image\n');
    await expect(readImage(text)).rejects.toThrow(
      `${text}: not a PNG or JPEG file (it starts with 6e 6f 74`,
    );
    const empty = path.join(dir, 'empty.jpg');
    await fs.writeFile(empty, '');
    await expect(readImage(empty)).rejects.toThrow(
      `${empty}: not a PNG or JPEG file (it starts with nothing`,
    );

    const jpg = path.join(dir, 'whole.jpg');
    await writeJpeg(jpg, digit);
    const whole = await bytesOf(jpg);
    const cut = path.join(dir, 'cut.jpg');
    await fs.writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.7)));
    await expect(readImage(cut)).rejects.toThrow(`${cut}: JPEG truncated`);
    const headerOnly = path.join(dir, 'header-only.jpg');
    await fs.writeFile(headerOnly, whole.subarray(0, 30));
    await expect(readImage(headerOnly)).rejects.toThrow(`${headerOnly}: JPEG truncated before`);

    const png = path.join(dir, 'crc.png');
    await writePng(png, digit);
    const bad = await bytesOf(png);
    bad[bad.length - 20] ^= 1; // inside the IDAT data
    await fs.writeFile(png, bad);
    await expect(readImage(png)).rejects.toThrow(`${png}: PNG damaged (CRC mismatch`);
  });

  it('checks the declared size against the decode cap before decoding', async () => {
    const file = path.join(dir, 'cap.png');
    await writePng(file, digit);
    const bytes = await bytesOf(file);
    // 28×28 gray at 8 bits is 784 bytes: a cap of 783 refuses it, 784 reads it.
    await expect(decodeImage(bytes, file, { maxBytes: 783 })).rejects.toThrow(DecodeLimitError);
    await expect(decodeImage(bytes, file, { maxBytes: 783 })).rejects.toThrow(
      `${file}: declares a 28×28 PNG of 1 sample(s) × 1 byte(s) per pixel = 784 bytes, over the decode limit of 783 bytes`,
    );
    expect((await decodeImage(bytes, file, { maxBytes: 784 })).data.length).toBe(784);
    // A header declaring 40000×40000 is refused without decoding (the data is 7 bytes long).
    const huge = Uint8Array.from(bytes.subarray(0, 33));
    new DataView(huge.buffer).setUint32(16, 40000);
    new DataView(huge.buffer).setUint32(20, 40000);
    await expect(decodeImage(huge, 'huge.png')).rejects.toThrow(
      /huge.png: declares a 40000×40000 PNG/,
    );
  });
});

describe('resizeBilinear and convertChannels', () => {
  let backend: string;
  beforeAll(async () => {
    await tf.ready();
    backend = tf.getBackend();
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend(backend);
  });

  it('is tf.image.resizeBilinear (half-pixel centres, cpu backend) rounded to the nearest byte', () => {
    const img = tintedRgb(digit);
    for (const [h, w] of [
      [14, 14],
      [32, 20],
      [7, 45],
      [1, 1],
    ]) {
      const ours = resizeBilinear(img, h, w);
      const ref = tf.tidy(() =>
        tf.image
          .resizeBilinear(tf.tensor3d(img.data, [28, 28, 3], 'float32'), [h, w], false, true)
          .dataSync(),
      );
      // Every byte is the nearest integer to TF's value (float32 there, so a hair over ½ at halves).
      expect(maxDiff(ours, ref), `${h}×${w}`).toBeLessThanOrEqual(0.5 + 1e-4);
    }
  });

  it('copies an image already at the size, into the given array at the offset', () => {
    const out = new Uint8Array(784 + 5);
    resizeBilinear(digit, 28, 28, out, 5);
    expect(Array.from(out.subarray(5))).toEqual(Array.from(digit.data));
  });

  it('gray → RGB repeats the value; RGB → gray is ITU-R 601 luma (PIL convert("L"))', () => {
    const gray = { data: new Uint8Array([0, 128]), height: 1, width: 2, channels: 1 as const };
    expect(Array.from(convertChannels(gray, 3).data)).toEqual([0, 0, 0, 128, 128, 128]);
    const rgb = {
      data: new Uint8Array([255, 0, 0, 10, 200, 30]),
      height: 1,
      width: 2,
      channels: 3 as const,
    };
    // 255·0.299 = 76.245 → 76; 10·0.299 + 200·0.587 + 30·0.114 = 123.81 → 124
    expect(Array.from(convertChannels(rgb, 1).data)).toEqual([76, 124]);
  });
});

describe('damaged files never crash the decoders', () => {
  it('cut or flipped PNG and JPEG bytes: an error naming the file, or the image; good files decode after', async () => {
    const rgb = tintedRgb(digit);
    const png = path.join(dir, 'fuzz.png');
    const jpg = path.join(dir, 'fuzz.jpg');
    await writePng(png, rgb);
    await writeJpeg(jpg, rgb);
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (const file of [png, jpg]) {
      const good = await bytesOf(file);
      for (let trial = 0; trial < 40; trial++) {
        const bad = trial < 20 ? good.slice(0, next(good.length)) : good.slice();
        if (trial >= 20) for (let k = 0; k < 4; k++) bad[next(bad.length)] ^= 1 + next(255);
        const name = `${file}#${trial}`;
        try {
          const img = await decodeImage(bad, name);
          expect([img.height, img.width, img.channels]).toEqual([28, 28, 3]);
        } catch (e) {
          expect((e as Error).message.startsWith(`${name}: `), (e as Error).message).toBe(true);
        }
      }
      // The decoder still works after all that.
      expect((await decodeImage(good, file)).data.length).toBe(28 * 28 * 3);
    }
  });
});
