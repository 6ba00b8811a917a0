/**
 * Checkpoints are written atomically: no temp folders left, a failed write keeps the previous
 * checkpoint byte for byte, and a crash between the two renames is recovered from.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOptimizer,
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from '../../src/train/index.js';
import { leftovers, tempDir, tinyModel, weightValues } from './helpers.js';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await tempDir('ckpt');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await fs.readdir(dir)).sort())
    files[name] = (await fs.readFile(path.join(dir, name))).toString('base64');
  return files;
}

async function trainedPair(seed: number) {
  const model = tinyModel({ conv: 'doconv', inputShape: [9, 9, 1], numClasses: 3, seed });
  const optimizer = createOptimizer({ kind: 'adam', learningRate: 0.01 });
  // One step so the optimizer has slots to save.
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.ones([2, 9, 9, 1]);
  optimizer.minimize(
    () => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
    false,
    vars,
  );
  x.dispose();
  return { model, optimizer };
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round trip: model weights, optimizer state and state object', async () => {
    const dir = path.join(root, 'rt', 'checkpoint');
    const { model, optimizer } = await trainedPair(1);
    await saveCheckpoint(dir, { model, optimizer, state: { epoch: 3, note: 'x' } });
    const loaded = await loadCheckpoint<{ epoch: number; note: string }>(dir);
    expect(loaded.state).toEqual({ epoch: 3, note: 'x' });
    expect(weightValues(loaded.model)).toEqual(weightValues(model));
    const [a, b] = [await optimizer.getWeights(), await loaded.optimizer.getWeights()];
    expect(b.map((w) => Array.from(w.tensor.dataSync()))).toEqual(
      a.map((w) => Array.from(w.tensor.dataSync())),
    );
    expect(loaded.optimizer.getClassName()).toBe('doconv.Adam');
    expect(await leftovers(path.dirname(dir))).toEqual([]);
    for (const m of [model, loaded.model]) m.dispose();
    optimizer.dispose();
    loaded.optimizer.dispose();
  });

  it('replacing a checkpoint leaves no temp or set-aside folders', async () => {
    const dir = path.join(root, 'replace', 'checkpoint');
    for (const seed of [1, 2, 3]) {
      const { model, optimizer } = await trainedPair(seed);
      await saveCheckpoint(dir, { model, optimizer, state: { seed } });
      model.dispose();
      optimizer.dispose();
    }
    expect((await loadCheckpoint<{ seed: number }>(dir)).state.seed).toBe(3);
    expect(await fs.readdir(path.dirname(dir))).toEqual(['checkpoint']);
  });

  it('a failed write keeps the previous checkpoint intact and removes its temp folder', async () => {
    const dir = path.join(root, 'fail', 'checkpoint');
    const first = await trainedPair(1);
    await saveCheckpoint(dir, { ...first, state: { n: 1 } });
    const before = await snapshot(dir);

    const second = await trainedPair(2);
    // The model part of the new checkpoint fails after the temp folder exists.
    const failing = Object.create(second.model) as tf.LayersModel;
    failing.save = async () => {
      throw new Error('disk full (simulated)');
    };
    await expect(
      saveCheckpoint(dir, { model: failing, optimizer: second.optimizer, state: { n: 2 } }),
    ).rejects.toThrow(
      /saving checkpoint .* failed; the previous checkpoint is unchanged: disk full \(simulated\)/,
    );
    // And a failure in the optimizer part, after the model was written to the temp folder.
    const badOptimizer = Object.create(second.optimizer) as typeof second.optimizer;
    badOptimizer.getWeights = async () => {
      throw new Error('optimizer exploded (simulated)');
    };
    await expect(
      saveCheckpoint(dir, { model: second.model, optimizer: badOptimizer, state: { n: 2 } }),
    ).rejects.toThrow(/optimizer exploded/);

    expect(await snapshot(dir)).toEqual(before);
    expect(await fs.readdir(path.dirname(dir))).toEqual(['checkpoint']);
    expect((await loadCheckpoint<{ n: number }>(dir)).state.n).toBe(1);
    for (const p of [first, second]) {
      p.model.dispose();
      p.optimizer.dispose();
    }
  });

  it('after a crash between the two renames, the set-aside copy is found and the next save cleans it up', async () => {
    const dir = path.join(root, 'crash', 'checkpoint');
    const { model, optimizer } = await trainedPair(1);
    await saveCheckpoint(dir, { model, optimizer, state: { n: 1 } });
    // What the crash leaves: the old checkpoint renamed aside, the new one not yet in place.
    const aside = path.join(path.dirname(dir), '.checkpoint.old-123-abcd');
    await fs.rename(dir, aside);
    expect(await hasCheckpoint(dir)).toBe(true);
    const loaded = await loadCheckpoint<{ n: number }>(dir);
    expect(loaded.state.n).toBe(1);
    expect(loaded.dir).toBe(aside);
    await saveCheckpoint(dir, { model, optimizer, state: { n: 2 } });
    expect(await fs.readdir(path.dirname(dir))).toEqual(['checkpoint']);
    for (const m of [model, loaded.model]) m.dispose();
    optimizer.dispose();
    loaded.optimizer.dispose();
  });

  it('loading from a folder without a checkpoint names the folder', async () => {
    const dir = path.join(root, 'none', 'checkpoint');
    await expect(loadCheckpoint(dir)).rejects.toThrow(`no checkpoint in ${dir}`);
  });
});
