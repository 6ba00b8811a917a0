/**
 * COCO-style folders in Node: an annotations JSON, a folder of PNG images and optionally a folder of
 * PNG label masks (same base names, `.png`). Node-only; the decoding is in ./coco.ts.
 */
import * as path from 'node:path';
import { readCheckedFileSync } from '../io/checkedRead.js';
import { readConfinedFileSync } from '../io/confinedFiles.js';
import { cocoSceneSet, parseCocoAnnotations } from './coco.js';
import type { SceneSet } from './scenes.js';
import { formatValue } from '../util/formatValue.js';

/** Options of {@link loadCocoFolder}. */
export interface CocoFolderOptions {
  /** The COCO JSON file. */
  annotations: string;
  /** Folder with the images (`file_name` is relative to it). */
  imageDir: string;
  /** Folder with one PNG label mask per image, named like the image with a `.png` extension. */
  maskDir?: string;
  /** 1 (gray, default) or 3 (RGB). */
  channels?: 1 | 3;
  /** Largest number of bytes one image or mask may decode to (default: the decode cap). */
  maxBytes?: number;
}

/** Loads a COCO-style folder as a SceneSet (boxes, and masks when `maskDir` is given). */
export function loadCocoFolder(opts: CocoFolderOptions): SceneSet {
  let json: unknown;
  // A regular file within the decode cap (a FIFO or /dev/zero would block or never end).
  const text = new TextDecoder().decode(readCheckedFileSync(opts.annotations, 'annotations file'));
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `annotations file ${formatValue(opts.annotations)} is not JSON: ${(e as Error).message}`,
    );
  }
  const maskDir = opts.maskDir;
  // file_name comes from the JSON: it goes through the one rule for paths read from files
  // (io/confinedFiles.ts) — inside imageDir once symlinks are resolved, a regular file.
  const from = opts.annotations;
  return cocoSceneSet({
    annotations: parseCocoAnnotations(json, opts.annotations),
    image: (name) => readConfinedFileSync(opts.imageDir, name, { from, what: 'image' }),
    mask:
      maskDir === undefined
        ? undefined
        : (name) =>
            readConfinedFileSync(maskDir, `${path.parse(name).name}.png`, {
              from,
              what: 'label mask',
            }),
    channels: opts.channels,
    name: path.basename(opts.annotations),
    maxBytes: opts.maxBytes,
  });
}
