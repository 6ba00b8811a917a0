/**
 * trainModel on an image folder of MNIST digits (PNG and JPEG): the class names and the training
 * images' normalisation go into summary.json and both saved models' metadata, skipped files are
 * counted in the summary, and curves.svg holds one point per epoch for each loss and accuracy.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { loadImageFolderSplits } from '../../src/data/imageFolder.js';
import { trainModel } from '../../src/train/index.js';
import { writeDigitFolder } from '../data/imageFiles.js';
import { readJson, tinyModel, wasmWithTempRoot } from './helpers.js';

const root = wasmWithTempRoot('folder-train');

describe('trainModel on an image folder', () => {
  it('records class names, normalisation and skipped files, and draws curves.svg', async () => {
    const data = path.join(root(), 'digits');
    await writeDigitFolder(data, 40, { classes: [0, 1, 7], names: ['zero', 'one', 'seven'] });
    await fs.writeFile(path.join(data, 'one', 'broken.png'), 'not a png');
    const out = path.join(root(), 'run');
    const notes: string[] = [];
    const r = await trainModel({
      model: tinyModel,
      dataset: 'folder',
      dataDir: data,
      imageSize: [16, 16],
      channels: 3, // gray digits, converted for an RGB model
      epochs: 2,
      batchSize: 8,
      out,
      log: (m) => notes.push(m),
    });
    try {
      const { train } = await loadImageFolderSplits(data, {
        size: 16,
        channels: 3,
        onWarning: () => {},
      });
      const summary = await readJson(path.join(out, 'summary.json'));
      expect(summary.classNames).toEqual(['one', 'seven', 'zero']);
      expect(summary.dataset).toBe('folder');
      expect(summary.config.imageSize).toEqual([16, 16]);
      expect(summary.config.normalize).toBe('dataset');
      expect(summary.config.channels).toBe(3);
      expect(summary.imageFolder.inputShape).toEqual([16, 16, 3]);
      expect(summary.imageFolder.converted).toBe(summary.trainImages + summary.testImages);
      expect(summary.imageFolder.skipped).toEqual([
        {
          file: path.join(data, 'one', 'broken.png'),
          reason: expect.stringMatching(/not a PNG or JPEG/),
        },
      ]);
      expect(summary.imageFolder.stats.mean).toEqual(train.stats.mean);
      expect(notes.join('\n')).toContain(path.join(data, 'one', 'broken.png'));
      for (const dir of ['checkpoint', 'folded']) {
        const json = await readJson(path.join(out, dir, 'model.json'));
        expect(json.userDefinedMetadata.doconv).toMatchObject({
          dataset: 'folder',
          classNames: ['one', 'seven', 'zero'],
          normalization: { mean: train.stats.mean, std: train.stats.std },
        });
      }
      const svg = await fs.readFile(path.join(out, 'curves.svg'), 'utf8');
      const polylines = [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) => m[1]);
      // train/test loss and train/test accuracy, each a thin and a thick line of 2 points.
      expect(polylines.length).toBe(8);
      for (const p of polylines) expect(p.split(' ').length).toBe(2);
      for (const label of ['train loss', 'test loss', 'train accuracy', 'test accuracy']) {
        expect(svg).toContain(`>${label}</text>`);
      }
    } finally {
      r.model.dispose();
      r.folded?.dispose();
    }
  });

  it('trains the same from the on-disk cache as from memory (a folder over the memory budget)', async () => {
    const data = path.join(root(), 'digits-cached');
    await writeDigitFolder(data, 30, { classes: [0, 1] });
    const run = async (env: Record<string, string>) => {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      const notes: string[] = [];
      try {
        const r = await trainModel({
          model: tinyModel,
          dataset: 'folder',
          dataDir: data,
          imageSize: [16, 16],
          channels: 3,
          epochs: 2,
          batchSize: 8,
          augment: true,
          fold: false,
          log: (m) => notes.push(m),
        });
        r.model.dispose();
        return { summary: r.summary, history: r.history, notes };
      } finally {
        for (const k of Object.keys(env)) {
          if (saved[k] === undefined) delete process.env[k];
          else process.env[k] = saved[k];
        }
      }
    };
    const memory = await run({});
    const cacheDir = path.join(root(), 'image-cache');
    const cached = await run({ DOCONV_IMAGE_MEMORY_BUDGET: '1', DOCONV_IMAGE_CACHE: cacheDir });
    expect(cached.notes.join('\n')).toContain('decoding them once into');
    expect((await fs.readdir(cacheDir)).filter((f) => f.endsWith('.u8'))).toHaveLength(2);
    expect(memory.notes.join('\n')).not.toContain('decoding them once');
    const curve = (h: typeof memory.history) =>
      h.map((m) => [m.trainLoss, m.trainAccuracy, m.testLoss, m.testAccuracy]);
    expect(curve(cached.history)).toEqual(curve(memory.history));
    expect(memory.history).toHaveLength(2);
    const { cacheFiles, ...report } = cached.summary.imageFolder!;
    expect(cacheFiles.map((f) => path.dirname(f))).toEqual([cacheDir, cacheDir]);
    expect(cacheFiles[0]).toMatch(/-train-\w+\.u8$/);
    expect(memory.summary.imageFolder).toEqual({ ...report, cacheFiles: [] });
  });

  it('refuses a folder dataset without dataDir, holdout with a folder, imageSize or channels on mnist, 2 channels', async () => {
    await expect(trainModel({ model: tinyModel, dataset: 'folder', epochs: 1 })).rejects.toThrow(
      /dataset: folder needs dataDir: a folder of class folders/,
    );
    await expect(
      trainModel({ model: tinyModel, dataset: 'folder', dataDir: root(), holdout: 5, epochs: 1 }),
    ).rejects.toThrow(/holdout: 5 is not used with dataset: folder/);
    await expect(
      trainModel({ model: tinyModel, dataset: 'mnist', imageSize: [8, 8], epochs: 1 }),
    ).rejects.toThrow(/imageSize resizes the images of dataset: folder; mnist has a fixed size/);
    await expect(
      trainModel({ model: tinyModel, dataset: 'folder', dataDir: root(), channels: 2, epochs: 1 }),
    ).rejects.toThrow('channels must be 1 (gray) or 3 (RGB), got 2');
    await expect(
      trainModel({ model: tinyModel, dataset: 'mnist', channels: 3, epochs: 1 }),
    ).rejects.toThrow('channels converts the images of dataset: folder; mnist has fixed channels');
  });
});
