/**
 * CIFAR-10 (binary version) from a folder holding data_batch_1.bin … data_batch_5.bin and
 * test_batch.bin — the contents of cifar-10-binary.tar.gz, which users download themselves. Node-only.
 */
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  CIFAR10_CHANNELS,
  CIFAR10_CLASSES,
  CIFAR10_IMAGE_BYTES,
  CIFAR10_RECORDS_PER_FILE,
  CIFAR10_SIZE,
  checkCifar10Size,
  decodeCifar10Records,
} from './cifar10.js';
import { fileKind } from '../io/checkedRead.js';
import { type Dataset, type LimitOption, resolveLimit } from './dataset.js';
import type { Split } from './idxFiles.js';
import { firstExisting, readBytes } from './readBytes.js';

export const CIFAR10_FILE_NAMES: Record<Split, readonly string[]> = {
  train: [
    'data_batch_1.bin',
    'data_batch_2.bin',
    'data_batch_3.bin',
    'data_batch_4.bin',
    'data_batch_5.bin',
  ],
  test: ['test_batch.bin'],
};
/** The folder name inside the official archive; accepted one level below `dir`. */
const ARCHIVE_FOLDER = 'cifar-10-batches-bin';

/** Options of `loadCifar10`. */
export interface Cifar10Options extends LimitOption {
  /** 'train' (5 files, 50000 images) or 'test' (1 file, 10000). */
  split: Split;
  /** Records each file must hold. Default 10000 (the official files); smaller for hand-made test sets. */
  recordsPerFile?: number;
}

/**
 * CIFAR-10 as a 32×32×3 NHWC byte Dataset. Every file of the split is size-checked before any is read
 * (so a truncated data_batch_5.bin fails even with a limit that needs only the first file); only the
 * files the limit needs are read.
 */
export async function loadCifar10(dir: string, opts: Cifar10Options): Promise<Dataset> {
  const names = CIFAR10_FILE_NAMES[opts.split];
  if (!names)
    throw new Error(`CIFAR-10: split must be 'train' or 'test', got ${JSON.stringify(opts.split)}`);
  const perFile = opts.recordsPerFile ?? CIFAR10_RECORDS_PER_FILE;
  if (!Number.isInteger(perFile) || perFile < 1) {
    throw new Error(
      `CIFAR-10: recordsPerFile must be a positive integer, got ${JSON.stringify(perFile)}`,
    );
  }
  const root = await resolveRoot(dir, names[0]);
  const files = names.map((n) => path.join(root, n));
  for (const file of files) {
    let stat: Stats;
    try {
      stat = await fs.stat(file);
    } catch {
      throw new Error(`CIFAR-10: ${file}: no such file (expected ${names.join(', ')} in ${root})`);
    }
    if (!stat.isFile()) throw new Error(`CIFAR-10: ${file}: it is ${fileKind(stat)}`);
    checkCifar10Size(stat.size, file, perFile);
  }
  const total = files.length * perFile;
  const count = resolveLimit(opts.limit, total, `cifar10/${opts.split}`);
  const images = new Uint8Array(count * CIFAR10_IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let f = 0; f * perFile < count; f++) {
    const bytes = await readBytes(files[f]);
    // Checked again: the file may have changed since the stat.
    checkCifar10Size(bytes.length, files[f], perFile);
    decodeCifar10Records(
      bytes,
      files[f],
      Math.min(perFile, count - f * perFile),
      images,
      labels,
      f * perFile,
    );
  }
  return {
    name: `cifar10/${opts.split}`,
    images,
    labels,
    count,
    height: CIFAR10_SIZE,
    width: CIFAR10_SIZE,
    channels: CIFAR10_CHANNELS,
    numClasses: CIFAR10_CLASSES.length,
    classNames: CIFAR10_CLASSES,
  };
}

/** `dir`, or `dir/cifar-10-batches-bin` when the user points at the folder the archive was unpacked in. */
async function resolveRoot(dir: string, firstFile: string): Promise<string> {
  if (await firstExisting([path.join(dir, firstFile)])) return dir;
  const nested = path.join(dir, ARCHIVE_FOLDER);
  if (await firstExisting([path.join(nested, firstFile)])) return nested;
  return dir;
}
