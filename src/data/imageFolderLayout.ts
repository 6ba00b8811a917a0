/**
 * Which files of an image folder are which class and which split. Node-only (lists folders).
 *
 * The layouts (as Keras' image_dataset_from_directory and torchvision's ImageFolder read them):
 *
 *   DIR/<class>/<image>                      one folder per class; the val split is a seeded
 *                                            holdout of `valFraction` of each class's files
 *   DIR/train/<class>/…  DIR/val/<class>/…   explicit splits (chosen when DIR holds a train/ folder)
 *
 * Class names are the training folders' names sorted by code point (label i = i-th name), as both
 * libraries do. Files are recognised by extension (.png, .jpg, .jpeg, any case) and then read by
 * their magic bytes; anything else in a class folder is counted as ignored, never silently dropped.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { createRng, mixSeeds, permutation } from './prng.js';

/** Extensions read as images. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** One image file and its class index. */
export interface LabelledFile {
  file: string;
  label: number;
}

/** The files of both splits, the class names, and what was not an image. */
export interface FolderLayout {
  /** 'folders': DIR/train and DIR/val; 'holdout': DIR/<class>, val held out by seed. */
  kind: 'folders' | 'holdout';
  classNames: string[];
  train: LabelledFile[];
  val: LabelledFile[];
  /** Files in class folders whose extension is not an image's. */
  ignored: string[];
  /** Messages about the layout (an empty val class folder …). */
  warnings: string[];
}

/** Options of `folderLayout`. */
export interface LayoutOptions {
  /** Share of each class held out as val without a val/ folder, in [0, 1). Default 0.2. */
  valFraction?: number;
  /** Seeds the holdout. Default 1. */
  seed?: number;
  /**
   * The class names, in label order, the caller expects (a trained model's): every class folder
   * must be one of them; a name without a folder has no images.
   */
  classNames?: readonly string[];
}

/** Lists `dir` into classes and splits; errors name the folder. */
export async function folderLayout(dir: string, opts: LayoutOptions = {}): Promise<FolderLayout> {
  const valFraction = opts.valFraction ?? 0.2;
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new Error(`valFraction must be in [0, 1), got ${String(valFraction)}`);
  }
  const top = await subfolders(dir);
  const warnings: string[] = [];
  const ignored: string[] = [];
  if (top.includes('train')) {
    const trainDir = path.join(dir, 'train');
    const classNames = opts.classNames ? [...opts.classNames] : await subfolders(trainDir);
    const train = await classFiles(trainDir, classNames, ignored, 'train', warnings, opts);
    const valDir = path.join(dir, 'val');
    const val = top.includes('val')
      ? await classFiles(valDir, classNames, ignored, 'val', warnings, opts)
      : [];
    if (!top.includes('val')) {
      warnings.push(`${dir} has a train/ folder and no val/ folder: the val split is empty`);
    }
    return { kind: 'folders', classNames, train, val, ignored, warnings };
  }
  const classNames = opts.classNames ? [...opts.classNames] : top;
  const all = await classFiles(dir, classNames, ignored, 'train', warnings, opts);
  const { train, val } = holdout(all, classNames.length, valFraction, opts.seed ?? 1);
  return { kind: 'holdout', classNames, train, val, ignored, warnings };
}

/** Sorted names of the folders in `dir` (hidden ones skipped). */
async function subfolders(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      `image folder ${JSON.stringify(dir)}: ${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : (e as Error).message}`,
    );
  }
  const names = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodePoint);
  if (names.length === 0) {
    throw new Error(
      `image folder ${JSON.stringify(dir)} holds no class folders (expected ${dir}/<class name>/<images>, or train/ and val/ folders of those)`,
    );
  }
  return names;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The image files of each class folder of `dir` (sorted), labelled by their place in classNames. */
async function classFiles(
  dir: string,
  classNames: readonly string[],
  ignored: string[],
  split: 'train' | 'val',
  warnings: string[],
  opts: LayoutOptions,
): Promise<LabelledFile[]> {
  const present = await subfolders(dir).catch(() => [] as string[]);
  const unknown = present.filter((name) => !classNames.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `${dir}: class folder(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')} ${opts.classNames ? "are not among the model's classes" : 'are not among the training classes'} (${classNames.join(', ')})`,
    );
  }
  const out: LabelledFile[] = [];
  for (const [label, name] of classNames.entries()) {
    const folder = path.join(dir, name);
    const entries = present.includes(name) ? await fs.readdir(folder, { withFileTypes: true }) : [];
    const files = entries
      .filter((e) => e.isFile() || e.isSymbolicLink())
      .map((e) => e.name)
      .sort(byCodePoint);
    const images = files.filter((f) => isImageName(f));
    for (const f of files) if (!isImageName(f)) ignored.push(path.join(folder, f));
    if (images.length === 0) {
      const what = `class folder ${folder} holds no .png/.jpg/.jpeg files`;
      if (split === 'train' && opts.classNames === undefined) {
        throw new Error(
          `${what}: a class without training images cannot be learnt (remove the folder or add images)`,
        );
      }
      warnings.push(`${what} (${split} split)`);
    }
    for (const f of images) out.push({ file: path.join(folder, f), label });
  }
  return out;
}

function isImageName(name: string): boolean {
  const ext = path.extname(name).toLowerCase();
  return (IMAGE_EXTENSIONS as readonly string[]).includes(ext);
}

/**
 * Per class, a seeded random `fraction` of its files (rounded; at least one when the class has two
 * or more files and fraction > 0) goes to val, the rest to train. Per class, so a small class is in
 * both splits.
 */
function holdout(
  files: readonly LabelledFile[],
  numClasses: number,
  fraction: number,
  seed: number,
): { train: LabelledFile[]; val: LabelledFile[] } {
  const train: LabelledFile[] = [];
  const val: LabelledFile[] = [];
  for (let label = 0; label < numClasses; label++) {
    const mine = files.filter((f) => f.label === label);
    const order = permutation(mine.length, createRng(mixSeeds(seed, 1000 + label)));
    let take = Math.round(mine.length * fraction);
    if (fraction > 0 && mine.length >= 2) take = Math.max(1, Math.min(take, mine.length - 1));
    const held = new Set(Array.from(order.subarray(0, take)));
    mine.forEach((f, i) => (held.has(i) ? val : train).push(f));
  }
  return { train, val };
}
