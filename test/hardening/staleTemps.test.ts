/**
 * What a SIGKILL mid-write leaves (hidden temp files, backups, temp and aside folders) is cleared by
 * the next write to the same place — never a live writer's files — and an aside folder that is the
 * last complete version is put back (src/io/atomicFiles.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishFolder, replaceFilesAtomically } from '../../src/io/atomicFiles.js';
import { fileSystem } from '../../src/io/fileSystemIO.js';
import { foldSavedModel } from '../../src/train/savedModels.js';
import { tempDir } from '../train/helpers.js';

let root = '';
/** The pid of a process that has exited: what a killed writer's pid is. */
let deadPid = 0;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await tempDir('stale-temps');
  deadPid = spawnSync('true').pid!;
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const list = async (dir: string) => (await fs.readdir(dir)).sort();

describe('per-file writes (replaceFilesAtomically: fold, export, model saves, metrics)', () => {
  it("removes a dead writer's temp files and backups of the files it writes, and nothing else", async () => {
    const dir = path.join(root, 'files');
    await fs.mkdir(dir);
    const stale = [
      `.model.json.${deadPid}-0a1b2c3d.tmp`,
      `.weights.bin.${deadPid}-deadbeef.tmp`,
      `.model.json.${deadPid}-01234567.bak`,
    ];
    const kept = [
      `.model.json.${process.pid}-89abcdef.tmp`, // a live writer's (this process)
      `.other.json.${deadPid}-0a1b2c3d.tmp`, // not a file this write replaces
      'notes.txt',
    ];
    for (const name of [...stale, ...kept]) await fs.writeFile(path.join(dir, name), 'x');
    await replaceFilesAtomically(dir, [
      { name: 'weights.bin', data: new Uint8Array(4) },
      { name: 'model.json', data: '{}' },
    ]);
    expect(await list(dir)).toEqual([...kept, 'model.json', 'weights.bin'].sort());
  });

  it('fold into a folder a killed fold left temp files in: they are gone afterwards', async () => {
    const input = path.join(root, 'model');
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    await model.save(fileSystem(input));
    model.dispose();
    const out = path.join(root, 'folded');
    await fs.mkdir(out);
    await fs.writeFile(path.join(out, `.weights.bin.${deadPid}-00ff00ff.tmp`), 'half');
    await foldSavedModel(input, out);
    expect(await list(out)).toEqual(['model.json', 'weights.bin']);
  });
});

describe('folder writes (publishFolder: import)', () => {
  const publish = (out: string, content: string) =>
    publishFolder(out, (temp) => fs.writeFile(path.join(temp, 'data.txt'), content));

  it("removes a dead writer's temp folder and a superseded aside folder", async () => {
    const parent = path.join(root, 'folders');
    const out = path.join(parent, 'out');
    await publish(out, 'v1');
    await fs.mkdir(path.join(parent, `.out.tmp-${deadPid}-aaaa0000`));
    await fs.mkdir(path.join(parent, `.out.old-${deadPid}-bbbb1111`));
    await fs.mkdir(path.join(parent, `.out.tmp-${process.pid}-cccc2222`)); // live: kept
    await publish(out, 'v2');
    expect(await list(parent)).toEqual([`.out.tmp-${process.pid}-cccc2222`, 'out']);
    expect(await fs.readFile(path.join(out, 'data.txt'), 'utf8')).toBe('v2');
  });

  it('puts back the last complete version a writer killed between its two renames left aside', async () => {
    const parent = path.join(root, 'killed-between');
    await fs.mkdir(path.join(parent, `.out.old-${deadPid}-dddd3333`), { recursive: true });
    await fs.writeFile(path.join(parent, `.out.old-${deadPid}-dddd3333`, 'data.txt'), 'v1');
    // The next write fails: the restored v1 is what stays.
    await expect(
      publishFolder(path.join(parent, 'out'), async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await list(parent)).toEqual(['out']);
    expect(await fs.readFile(path.join(parent, 'out', 'data.txt'), 'utf8')).toBe('v1');
  });
});
