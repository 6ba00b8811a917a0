/**
 * The folder a run writes (see trainModel.ts for what each file holds), and the guard that keeps a
 * new run from mixing with an old one.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { METRICS_FILE } from './metrics.js';

export const CHECKPOINT_DIR = 'checkpoint';
export const FOLDED_DIR = 'folded';
export const SUMMARY_FILE = 'summary.json';

/** The paths of a run's files in `out`. */
export interface RunFolder {
  out: string;
  checkpoint: string;
  metrics: string;
  folded: string;
}

export function runFolder(out: string): RunFolder {
  return {
    out,
    checkpoint: path.join(out, CHECKPOINT_DIR),
    metrics: path.join(out, METRICS_FILE),
    folded: path.join(out, FOLDED_DIR),
  };
}

/** The files a run writes into `out`; a folder holding any of them holds a run. */
const RUN_FILES = [METRICS_FILE, CHECKPOINT_DIR, FOLDED_DIR, SUMMARY_FILE];

/** Makes `out`; a run already there must be resumed or (with `overwrite`) is removed first. */
export async function prepareRunFolder(
  folder: RunFolder,
  opts: { resume?: boolean; overwrite?: boolean },
): Promise<void> {
  const { out } = folder;
  const present: string[] = [];
  for (const name of RUN_FILES) {
    if (
      await fs.stat(path.join(out, name)).then(
        () => true,
        () => false,
      )
    )
      present.push(name);
  }
  if (present.length > 0 && !opts.resume) {
    if (!opts.overwrite) {
      throw new Error(
        `out ${JSON.stringify(out)} already holds a run (${present.join(', ')}); resume it (--resume) or replace it (--overwrite)`,
      );
    }
    await Promise.all(
      present.map((name) => fs.rm(path.join(out, name), { recursive: true, force: true })),
    );
  }
  await fs.mkdir(out, { recursive: true });
}
