/**
 * COCO-style folders in Node: an annotations JSON, a folder of PNG images and optionally a folder of
 * PNG label masks (same base names, `.png`). Node-only; the decoding is in ./coco.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
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
}

function readFile(file: string, what: string): Uint8Array {
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    throw new Error(`${what} ${formatValue(file)} cannot be read: ${(e as Error).message}`);
  }
}

/** Loads a COCO-style folder as a SceneSet (boxes, and masks when `maskDir` is given). */
export function loadCocoFolder(opts: CocoFolderOptions): SceneSet {
  let json: unknown;
  const text = new TextDecoder().decode(readFile(opts.annotations, 'annotations file'));
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `annotations file ${formatValue(opts.annotations)} is not JSON: ${(e as Error).message}`,
    );
  }
  const maskDir = opts.maskDir;
  return cocoSceneSet({
    annotations: parseCocoAnnotations(json, opts.annotations),
    image: (name) => readFile(path.join(opts.imageDir, name), 'image'),
    mask:
      maskDir === undefined
        ? undefined
        : (name) => readFile(path.join(maskDir, `${path.parse(name).name}.png`), 'label mask'),
    channels: opts.channels,
    name: path.basename(opts.annotations),
  });
}
