/**
 * Per-epoch metrics, written as JSON lines (one object per epoch) so a run can be followed with
 * `tail -f` and read back with one JSON.parse per line. Node-only.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { replaceFilesAtomically } from '../io/atomicFiles.js';

/** One line of metrics.jsonl. Accuracies are fractions 0..1. */
export interface EpochMetrics {
  /** 1-based. */
  epoch: number;
  /** Mean training loss over the epoch's batches (weighted by batch size), without weight decay. */
  trainLoss: number;
  /** Training accuracy, measured on the fly while the weights changed (as Keras reports it). */
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  /** Training images per second (forward + backward + update, data preparation included). */
  imagesPerSecond: number;
  /** Wall-clock seconds of the epoch's training steps. */
  seconds: number;
  /** Wall-clock seconds of the test-set evaluation. */
  evalSeconds: number;
  /** Learning rate of the epoch's first step. */
  lr: number;
}

export const METRICS_FILE = 'metrics.jsonl';

/** Appends one epoch's line (an EpochMetrics, or a task run's TaskEpochMetrics) to `file`. */
export async function appendMetrics(file: string, m: object): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.appendFile(file, JSON.stringify(m) + '\n');
}

/** Replaces `file` with exactly these lines (used on resume, so the file matches the checkpoint). */
export async function writeMetrics(file: string, history: readonly object[]): Promise<void> {
  await replaceFilesAtomically(path.dirname(file), [
    { name: path.basename(file), data: history.map((m) => JSON.stringify(m) + '\n').join('') },
  ]);
}

/** Reads a metrics.jsonl file (of EpochMetrics unless said otherwise); errors name the file and line. */
export async function readMetrics<M = EpochMetrics>(file: string): Promise<M[]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as M;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not JSON: ${(e as Error).message}`);
      }
    });
}
