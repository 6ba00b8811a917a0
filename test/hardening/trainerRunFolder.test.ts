/**
 * The run folder under hostile conditions: two runs into one --out at once (a lock: the second is
 * refused, nothing interleaves), stale locks, --out that is a file, a resume whose checkpoint was
 * deleted, a checkpoint holding NaN weights or optimizer state, and data sets of 0 images.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import { type TrainOptions } from '../../src/train/index.js';
import { LOCK_FILE, lockRunFolder, runFolder } from '../../src/train/runFolder.js';
import { tinyModel, trainerWith, wasmWithTempRoot } from '../train/helpers.js';
import { REPO } from '../cli/runCli.js';

const root = wasmWithTempRoot('run-folder');

const base: TrainOptions = {
  model: tinyModel,
  conv: 'doconv',
  dataset: 'mnist',
  trainLimit: 64,
  testLimit: 32,
  epochs: 1,
  batchSize: 32,
  evalBatchSize: 32,
  seed: 3,
  fold: false,
};
const train = trainerWith(base);

const metricsEpochs = async (out: string) =>
  (await fs.readFile(path.join(out, 'metrics.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { epoch: number }).epoch);

/** A pid no process has: one that just exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('two runs into one --out at once', () => {
  it('the second is refused by the lock; the first finishes alone; the lock is gone after', async () => {
    const out = path.join(root(), 'concurrent');
    const runs = await Promise.allSettled([
      train({ out, epochs: 2 }),
      train({ out, epochs: 2, overwrite: true }),
    ]);
    const refused = runs.filter((r) => r.status === 'rejected');
    expect(runs.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(
      new RegExp(
        `out ".*concurrent" is in use by another doconv run \\(pid ${process.pid} on .*, started .*\\); wait for it to finish, or use another out`,
      ),
    );
    expect(await metricsEpochs(out)).toEqual([1, 2]);
    expect(await fs.readdir(out)).not.toContain(LOCK_FILE);
  });

  it('a resume while the run is still going is refused too', async () => {
    const out = path.join(root(), 'resume-while-running');
    // Caught at once: a rejection nobody awaits yet would end the test worker.
    let second: Promise<unknown> | undefined;
    await train({
      out,
      epochs: 2,
      onEpochEnd: () => {
        second ??= train({ out, epochs: 2, resume: true }).then(
          () => 'trained',
          (e: Error) => e.message,
        );
      },
    });
    expect(await second).toMatch(/is in use by another doconv run/);
    expect(await metricsEpochs(out)).toEqual([1, 2]);
  });

  it('the lock is released when the run fails', async () => {
    const out = path.join(root(), 'fails');
    await expect(
      train({
        out,
        onEpochEnd: () => {
          throw new Error('boom');
        },
      }),
    ).rejects.toThrow('boom');
    expect(await fs.readdir(out)).not.toContain(LOCK_FILE);
    await train({ out, overwrite: true });
  });

  it('a stale lock (its process is gone) is taken over with a message', async () => {
    const out = path.join(root(), 'stale');
    await fs.mkdir(out, { recursive: true });
    const pid = deadPid();
    await fs.writeFile(
      path.join(out, LOCK_FILE),
      JSON.stringify({ pid, hostname: os.hostname(), started: 'yesterday', token: 'x' }),
    );
    const notes: string[] = [];
    await train({ out, log: (m) => notes.push(m) });
    expect(notes.join('\n')).toContain(
      `taking over the stale lock ${path.join(out, LOCK_FILE)} of a run that is gone (pid ${pid}, started yesterday)`,
    );
    expect(await fs.readdir(out)).not.toContain(LOCK_FILE);
  });

  it('a lock from another machine, or one that cannot be read, is not taken over', async () => {
    const out = path.join(root(), 'foreign');
    await fs.mkdir(out, { recursive: true });
    const lock = path.join(out, LOCK_FILE);
    await fs.writeFile(
      lock,
      JSON.stringify({ pid: deadPid(), hostname: 'elsewhere', started: 'now', token: 'x' }),
    );
    await expect(train({ out })).rejects.toThrow(
      /in use by another doconv run \(pid \d+ on elsewhere/,
    );
    await fs.writeFile(lock, '');
    await expect(train({ out })).rejects.toThrow(
      `in use by another doconv run (its lock file cannot be read); wait for it to finish, or use another out. If no run is using it, remove ${lock}`,
    );
    expect(await fs.readdir(out)).toEqual([LOCK_FILE]); // nothing written
  });

  it('process.exit removes the lock (exit hook)', async () => {
    const out = path.join(root(), 'exit');
    const script = `
      import { lockRunFolder, runFolder } from ${JSON.stringify(path.join(REPO, 'src/train/runFolder.ts'))};
      await import('node:fs').then((fs) => fs.mkdirSync(${JSON.stringify(out)}, { recursive: true }));
      await lockRunFolder(runFolder(${JSON.stringify(out)}));
      process.exit(3);`;
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        {
          cwd: REPO,
          stdio: 'ignore',
        },
      );
      child.on('close', resolve);
    });
    expect(code).toBe(3);
    expect(await fs.readdir(out)).toEqual([]);
  });

  it('lockRunFolder twice in one process: the second is refused until the first is released', async () => {
    const out = path.join(root(), 'twice');
    await fs.mkdir(out, { recursive: true });
    const release = await lockRunFolder(runFolder(out));
    await expect(lockRunFolder(runFolder(out))).rejects.toThrow(/in use by another doconv run/);
    await release();
    await (
      await lockRunFolder(runFolder(out))
    )();
    expect(await fs.readdir(out)).toEqual([]);
  });
});

describe('--out that is not a folder', () => {
  it('a file: a clear error, the file untouched', async () => {
    const file = path.join(root(), 'a-file');
    await fs.writeFile(file, 'mine');
    await expect(train({ out: file })).rejects.toThrow(
      `out ${JSON.stringify(file)} is a file, not a folder`,
    );
    expect(await fs.readFile(file, 'utf8')).toBe('mine');
  });

  it('under a file', async () => {
    const file = path.join(root(), 'b-file');
    await fs.writeFile(file, 'mine');
    const out = path.join(file, 'run');
    await expect(train({ out })).rejects.toThrow(
      `cannot make out folder ${JSON.stringify(out)}: a part of the path is a file`,
    );
  });
});

describe('resume', () => {
  it('after the checkpoint was deleted: refused, metrics.jsonl untouched', async () => {
    const out = path.join(root(), 'deleted');
    await train({ out, epochs: 1 });
    await fs.rm(path.join(out, 'checkpoint'), { recursive: true });
    await expect(train({ out, epochs: 2, resume: true })).rejects.toThrow(
      new RegExp(
        `cannot resume ".*deleted": it holds a run \\(metrics.jsonl, summary.json, curves.svg\\) but no checkpoint .*; replace the run with overwrite: true`,
      ),
    );
    expect(await metricsEpochs(out)).toEqual([1]);
    // --overwrite starts fresh with a clean metrics file.
    await train({ out, epochs: 2, overwrite: true });
    expect(await metricsEpochs(out)).toEqual([1, 2]);
  });

  it('into an empty folder: starts at epoch 1 and says so', async () => {
    const out = path.join(root(), 'fresh');
    const notes: string[] = [];
    await train({ out, epochs: 1, resume: true, log: (m) => notes.push(m) });
    expect(notes.join('\n')).toContain(`nothing to resume in ${out}: starting from epoch 1`);
    expect(await metricsEpochs(out)).toEqual([1]);
  });

  const poison = async (file: string, floatIndex: number) => {
    const bytes = await fs.readFile(file);
    bytes.writeFloatLE(NaN, floatIndex * 4);
    await fs.writeFile(file, bytes);
  };

  it('from a checkpoint with a NaN weight: refused, naming the weight', async () => {
    const out = path.join(root(), 'nan-weight');
    await train({ out, epochs: 1 });
    await poison(path.join(out, 'checkpoint', 'weights.bin'), 0);
    const before = tf.memory().numTensors;
    await expect(train({ out, epochs: 2, resume: true })).rejects.toThrow(
      /cannot resume from .*weights\.bin: weight "c1\/[\w/]+" holds NaN at index 0; the run diverged or the file is damaged/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(await metricsEpochs(out)).toEqual([1]);
  });

  it('from a checkpoint with NaN optimizer state: refused, naming the slot', async () => {
    const out = path.join(root(), 'nan-optimizer');
    await train({ out, epochs: 1, optimizer: 'sgd', lr: 0.05, momentum: 0.9 });
    const bin = path.join(out, 'checkpoint', 'optimizer.bin');
    await poison(bin, (await fs.stat(bin)).size / 4 - 1);
    const before = tf.memory().numTensors;
    await expect(
      train({ out, epochs: 2, resume: true, optimizer: 'sgd', lr: 0.05, momentum: 0.9 }),
    ).rejects.toThrow(
      /cannot resume from .*optimizer\.bin: optimizer state ".+" holds NaN at index \d+/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('data sets of 0 images', () => {
  /** A Fashion-MNIST-style folder whose train (and test) IDX files hold `train` (`test`) images. */
  async function idxFolder(name: string, train: number, test: number): Promise<string> {
    const dir = path.join(root(), name);
    await fs.mkdir(dir, { recursive: true });
    const files = [
      ['train-images-idx3-ubyte', 0x803, train],
      ['train-labels-idx1-ubyte', 0x801, train],
      ['t10k-images-idx3-ubyte', 0x803, test],
      ['t10k-labels-idx1-ubyte', 0x801, test],
    ] as const;
    for (const [file, magic, count] of files) {
      const images = magic === 0x803;
      const header = Buffer.alloc(images ? 16 : 8);
      header.writeUInt32BE(magic, 0);
      header.writeUInt32BE(count, 4);
      if (images) {
        header.writeUInt32BE(28, 8);
        header.writeUInt32BE(28, 12);
      }
      await fs.writeFile(
        path.join(dir, file),
        Buffer.concat([header, Buffer.alloc(count * (images ? 784 : 1))]),
      );
    }
    return dir;
  }

  it('an empty training set is refused before training, naming the folder', async () => {
    const dataDir = await idxFolder('empty-train', 0, 4);
    const out = path.join(root(), 'empty-train-run');
    await expect(
      train({
        out,
        dataset: 'fashion-mnist',
        dataDir,
        trainLimit: undefined,
        testLimit: undefined,
      }),
    ).rejects.toThrow(
      `the train set of fashion-mnist/train (from ${JSON.stringify(dataDir)}) holds 0 images; nothing to train on`,
    );
    await expect(fs.stat(path.join(out, 'metrics.jsonl'))).rejects.toThrow(/ENOENT/);
  });

  it('an empty test set too', async () => {
    const dataDir = await idxFolder('empty-test', 4, 0);
    await expect(
      train({ dataset: 'fashion-mnist', dataDir, trainLimit: undefined, testLimit: undefined }),
    ).rejects.toThrow(/the test set of fashion-mnist\/test .* holds 0 images; nothing to test on/);
  });
});
