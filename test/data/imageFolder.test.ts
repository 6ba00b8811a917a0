/**
 * loadImageFolder on small folders of MNIST digits written as PNG and JPEG: class names and labels,
 * pixels against the digits written, the seeded holdout and the train/val layout, the defaults for
 * size and channels, per-channel statistics against tf.moments, and every kind of bad file named and
 * counted.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageFolder, loadImageFolderSplits } from '../../src/data/imageFolder.js';
import { mnistDigits, tintedRgb, writeDigitFolder, writeJpeg, writePng } from './imageFiles.js';

let root: string;
let digits: Map<string, string[]>;
const dirOf = (name: string) => path.join(root, name);
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'doconv-folder-'));
  digits = await writeDigitFolder(dirOf('digits'), 60, { classes: [0, 1, 2] });
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

const quiet = { onWarning: () => {} };

describe('loadImageFolder', () => {
  it('labels by sorted class folder, keeps PNG pixels exact and splits each class by seed', async () => {
    const { train, val, classNames, layout } = await loadImageFolderSplits(dirOf('digits'), quiet);
    expect(layout).toBe('holdout');
    expect(classNames).toEqual(['digit-0', 'digit-1', 'digit-2']);
    const total = [...digits.values()].reduce((n, f) => n + f.length, 0);
    expect(train.count + val.count).toBe(total);
    expect(train).toMatchObject({ height: 28, width: 28, channels: 1, numClasses: 3 });
    // Per class, round(20 %) held out.
    for (const [label, name] of classNames.entries()) {
      const n = digits.get(name)!.length;
      expect(val.labels.filter((l) => l === label).length).toBe(Math.round(n * 0.2));
    }
    // Every image comes from its file's class folder; PNG pixels are the digit's bytes exactly.
    const all = await mnistDigits(60);
    const byFile = new Map<string, Uint8Array>();
    let i = 0;
    for (const { image, label } of all) {
      if (label > 2) continue;
      byFile.set(`${String(i).padStart(4, '0')}`, image.data);
      i++;
    }
    for (const set of [train, val]) {
      set.files.forEach((file, k) => {
        expect(path.basename(path.dirname(file))).toBe(classNames[set.labels[k]]);
        const pixels = set.images.subarray(k * 784, (k + 1) * 784);
        const original = byFile.get(path.basename(file).slice(0, 4))!;
        if (file.endsWith('.png')) expect(Array.from(pixels)).toEqual(Array.from(original));
      });
    }
    // Same seed, same split; another seed, another split.
    const again = await loadImageFolder(dirOf('digits'), { ...quiet, split: 'val' });
    expect(again.files).toEqual(val.files);
    const other = await loadImageFolder(dirOf('digits'), { ...quiet, split: 'val', seed: 2 });
    expect(new Set(other.files)).not.toEqual(new Set(val.files));
  });

  it('reads train/ and val/ folders, resizes to a given size, and limits each split', async () => {
    const dir = dirOf('split');
    await writeDigitFolder(path.join(dir, 'train'), 30, {
      classes: [3, 7],
      names: ['three', 'seven'],
    });
    await writeDigitFolder(path.join(dir, 'val'), 30, { classes: [7], names: ['seven'] });
    const { train, val, classNames, layout } = await loadImageFolderSplits(dir, {
      ...quiet,
      size: [14, 10],
      limit: 3,
    });
    expect(layout).toBe('folders');
    expect(classNames).toEqual(['seven', 'three']);
    expect(train).toMatchObject({ count: 3, height: 14, width: 10, channels: 1 });
    expect(val.count).toBeLessThanOrEqual(3);
    expect(val.files.every((f) => f.includes(`${path.sep}val${path.sep}seven${path.sep}`))).toBe(
      true,
    );
    expect(Array.from(val.labels).every((l) => l === 0)).toBe(true);
  });

  it('per-channel mean and std of the training pixels/255 equal tf.moments', async () => {
    const dir = dirOf('rgb');
    for (const [k, { image, label }] of (await mnistDigits(12)).entries()) {
      await writePng(path.join(dir, `c${label % 2}`, `${k}.png`), tintedRgb(image));
    }
    const train = await loadImageFolder(dir, { ...quiet, valFraction: 0 });
    expect(train.channels).toBe(3);
    const { mean, variance } = tf.tidy(() => {
      const x = tf.div(tf.tensor4d(train.images, [train.count, 28, 28, 3], 'float32'), 255);
      const m = tf.moments(x, [0, 1, 2]);
      return { mean: Array.from(m.mean.dataSync()), variance: Array.from(m.variance.dataSync()) };
    });
    train.stats.mean.forEach((v, c) => expect(v).toBeCloseTo(mean[c], 5));
    train.stats.std.forEach((v, c) => expect(v).toBeCloseTo(Math.sqrt(variance[c]), 4));
  });

  it('names and counts bad files, converts a grayscale image in an RGB set, ignores non-images', async () => {
    const dir = dirOf('bad');
    const [a, b, c] = (await mnistDigits(3)).map((d) => d.image);
    await writePng(path.join(dir, 'cat', 'good.png'), tintedRgb(a));
    await writeJpeg(path.join(dir, 'cat', 'good2.jpg'), tintedRgb(b));
    await writePng(path.join(dir, 'dog', 'good.png'), tintedRgb(c));
    await writePng(path.join(dir, 'dog', 'gray.png'), c); // a grayscale image in an RGB set
    await fs.writeFile(path.join(dir, 'dog', 'notes.png'), 'a text file named .png\n');
    await fs.writeFile(path.join(dir, 'dog', 'readme.txt'), 'not an image\n');
    const whole = await fs.readFile(path.join(dir, 'cat', 'good2.jpg'));
    await fs.writeFile(path.join(dir, 'dog', 'cut.jpg'), whole.subarray(0, whole.length >> 1));
    await writePng(path.join(dir, 'dog', 'crc.png'), tintedRgb(a));
    const png = await fs.readFile(path.join(dir, 'dog', 'crc.png'));
    png[png.length - 20] ^= 1;
    await fs.writeFile(path.join(dir, 'dog', 'crc.png'), png);

    const warnings: string[] = [];
    const train = await loadImageFolder(dir, {
      valFraction: 0,
      onWarning: (m) => warnings.push(m),
    });
    expect(train.count).toBe(4);
    expect(train.channels).toBe(3);
    expect(train.skipped.map((s) => path.basename(s.file)).sort()).toEqual([
      'crc.png',
      'cut.jpg',
      'notes.png',
    ]);
    expect(train.skipped.find((s) => s.file.endsWith('cut.jpg'))!.reason).toMatch(/JPEG truncated/);
    expect(train.skipped.find((s) => s.file.endsWith('crc.png'))!.reason).toMatch(/CRC mismatch/);
    expect(train.skipped.find((s) => s.file.endsWith('notes.png'))!.reason).toMatch(
      /not a PNG or JPEG/,
    );
    expect(train.converted).toEqual([path.join(dir, 'dog', 'gray.png')]);
    expect(train.ignored).toEqual([path.join(dir, 'dog', 'readme.txt')]);
    const text = warnings.join('\n');
    for (const name of ['crc.png', 'cut.jpg', 'notes.png', 'gray.png', 'readme.txt']) {
      expect(text).toContain(path.join(dir, 'dog', name));
    }
    expect(text).toContain('3 of 7 file(s) skipped');
    expect(text).toContain('1 grayscale image(s) converted to RGB');
    // The converted image is the gray digit in all three channels.
    const k = train.files.indexOf(path.join(dir, 'dog', 'gray.png'));
    const pixels = train.images.subarray(k * 784 * 3, (k + 1) * 784 * 3);
    for (let p = 0; p < 784; p++) expect(pixels[p * 3 + 1]).toBe(c.data[p]);
  });

  it('refuses an empty class folder, images of different sizes without a size, and a set over the cap', async () => {
    const dir = dirOf('empty-class');
    await writePng(path.join(dir, 'a', '1.png'), (await mnistDigits(1))[0].image);
    await fs.mkdir(path.join(dir, 'b'));
    await expect(loadImageFolder(dir, quiet)).rejects.toThrow(
      `class folder ${path.join(dir, 'b')} holds no .png/.jpg/.jpeg files`,
    );
    await writePng(path.join(dir, 'b', 'wide.png'), {
      data: new Uint8Array(28 * 40),
      height: 28,
      width: 40,
      channels: 1,
    });
    await expect(loadImageFolder(dir, { ...quiet, valFraction: 0 })).rejects.toThrow(
      /the images differ in size .* give the size to resize them to/,
    );
    const sized = await loadImageFolder(dir, { ...quiet, valFraction: 0, size: 16 });
    expect(sized).toMatchObject({ count: 2, height: 16, width: 16 });
    // One cap for each file (784 and 1120 bytes here) and for the set at the input size.
    await expect(
      loadImageFolder(dir, { ...quiet, valFraction: 0, size: 32, maxBytes: 2047 }),
    ).rejects.toThrow(
      /declares 2 images × 32×32×1 bytes at the input size = 2048 bytes, over the decode limit of 2047 bytes/,
    );
    await expect(
      loadImageFolder(dir, { ...quiet, valFraction: 0, size: 16, maxBytes: 700 }),
    ).rejects.toThrow(
      /no readable training image \(.*1.png: declares a 28×28 PNG.*; .*wide.png: declares a 40×28 PNG/,
    );
    // A size over the cap is refused before any image is resized to it.
    await expect(loadImageFolder(dir, { ...quiet, valFraction: 0, size: 65535 })).rejects.toThrow(
      /one image at size: 65535 as the model's float32 input, 65535 × 65535 × 1 channels × 4 bytes = 17179344900 bytes, over the size limit of 1073741824 bytes \(lower size, or raise it with DOCONV_MAX_DECODED_BYTES/,
    );
    await expect(loadImageFolder(path.join(root, 'nowhere'), quiet)).rejects.toThrow(
      /no such folder/,
    );
  });
});
