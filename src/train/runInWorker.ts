/**
 * Runs trainModel in a worker thread and returns what it returns (minus the models): the way
 * `compareConvs({jobs})` puts independent runs on separate cores. Unlike `workers` (one run's
 * batch split across threads), this changes no numbers: each run is the single-thread run.
 */
import { wasmEngine } from '../engine/registerWasmTrainingKernels.js';
import { startWorkerModule } from './parallel/workerHandle.js';
import type { EpochMetrics } from './metrics.js';
import type { TrainOptions, TrainSummary } from './trainModel.js';

/** What a run worker is sent: options that cross threads (no functions, signals or reporters). */
export interface RunRequest {
  options: TrainOptions;
  /** The backend the main thread selected. */
  backend: string;
  /** On wasm, the main thread's engine. */
  engine: 'native' | 'wasm';
}

export type RunReply =
  | { type: 'done'; summary: TrainSummary; history: EpochMetrics[] }
  | { type: 'error'; message: string; stack?: string };

/** Trains `options` in a worker; the model must be a zoo name or preset (functions cannot cross threads). */
export async function runInWorker(
  options: TrainOptions,
  backend: string,
  name: string,
): Promise<{ summary: TrainSummary; history: EpochMetrics[] }> {
  const worker = startWorkerModule(import.meta.url, './runWorker', name);
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', (m: RunReply) => {
        if (m.type === 'done') resolve({ summary: m.summary, history: m.history });
        else {
          const e = new Error(`${name}: ${m.message}`);
          if (m.stack != null) e.stack = `${e.message}\n(in the worker) ${m.stack}`;
          reject(e);
        }
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`${name}: the worker exited (code ${code})`)));
      worker.postMessage({ options, backend, engine: wasmEngine() } satisfies RunRequest);
    });
  } finally {
    await worker.terminate();
  }
}
