/**
 * Fashion-MNIST from IDX files (plain or .gz): a folder the user gives, or where the Debian package
 * `dataset-fashion-mnist` installs them. Node-only.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { Dataset, LimitOption } from './dataset.js';
import { findIdxFile, IDX_FILE_NAMES, loadIdxFolder, type Split } from './idxFiles.js';
import { OptionError } from '../util/optionError.js';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Where `dpkg -L dataset-fashion-mnist` lists the files (Debian 13). */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';
const DEBIAN_PACKAGE = 'dataset-fashion-mnist';

/**
 * The folder of the installed Debian package, or null when it is not installed. Tries the known install
 * path first (no subprocess), then asks dpkg, in case a future package version moves the files.
 */
export async function findFashionMnistDir(): Promise<string | null> {
  if (await hasTrainImages(FASHION_MNIST_DEBIAN_DIR)) return FASHION_MNIST_DEBIAN_DIR;
  let listing: string;
  try {
    listing = execFileSync('dpkg', ['-L', DEBIAN_PACKAGE], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return null; // no dpkg (not Debian) or package not installed
  }
  const file = listing.split('\n').find((l) => /\/train-images-idx3-ubyte(\.gz)?$/.test(l.trim()));
  return file ? path.dirname(file.trim()) : null;
}

async function hasTrainImages(dir: string): Promise<boolean> {
  try {
    await findIdxFile(dir, IDX_FILE_NAMES.train.images);
    return true;
  } catch {
    return false;
  }
}

/** Options of `loadFashionMnist`. */
export interface FashionMnistOptions extends LimitOption {
  split: Split;
  /** Folder with train-images-idx3-ubyte[.gz] etc.; default: the Debian package's folder. */
  dir?: string;
}

/** Fashion-MNIST, 28×28×1, 10 classes (FASHION_MNIST_CLASSES). */
export async function loadFashionMnist(opts: FashionMnistOptions): Promise<Dataset> {
  const dir = opts.dir ?? (await findFashionMnistDir());
  if (dir === null) {
    throw new OptionError(
      'dir',
      (n) =>
        `Fashion-MNIST not found: pass ${n('dir')} (a folder with train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], ` +
        `t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) or install the Debian package ${DEBIAN_PACKAGE}`,
    );
  }
  return loadIdxFolder(dir, {
    split: opts.split,
    limit: opts.limit,
    name: 'fashion-mnist',
    numClasses: 10,
    classNames: FASHION_MNIST_CLASSES,
    imageSize: [28, 28],
  });
}
