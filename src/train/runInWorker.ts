/**
 * Runs trainModel in a worker thread and returns what it returns (minus the models): the way
 * `compareConvs({jobs})` puts independent runs on separate cores. Unlike `workers` (one run's batch
 * split across threads), this changes no numbers: each run is the single-thread run.
 */
import { nativeThreadsFor } from '../engine/native/nativeAddon.js';
import { currentEngine } from '../engine/engineState.js';
import { startWorkerModule } from './parallel/workerHandle.js';
import type { TrainOptions } from './trainModel.js';

/**
 * What a run worker is sent: options that cross threads (no functions, signals or reporters);
 * `backend`: the one the main thread selected; `engine`: on wasm, the main thread's engine;
 * `nativeThreads`: oneDNN threads for this run (its share of the cores among concurrent runs).
 */
export interface RunRequest {
  options: TrainOptions;
  /** A saved model (loadModelBuilder's file) the worker loads as `options.model`. */
  modelFile?: string;
  backend: string;
  engine: 'native' | 'wasm';
  nativeThreads: number;
}

export type RunReply =
  | { type: 'done'; summary: unknown; history: unknown[] }
  | { type: 'error'; message: string; stack?: string };

/**
 * Trains `options` in a worker; the model must be a zoo name or preset (functions cannot cross
 * threads), or a saved model's file (`modelFile`, loaded there with loadModelBuilder).
 * `concurrent`: how many runs share the machine now (each gets its share of the cores).
 */
export async function runInWorker(
  options: TrainOptions,
  backend: string,
  name: string,
  concurrent = 1,
  modelFile?: string,
): Promise<{ summary: unknown; history: unknown[] }> {
  const engine = engineFields(concurrent);
  const { summary, history } = await run({ options, backend, modelFile, ...engine }, name);
  return { summary, history };
}

function engineFields(concurrent: number): { engine: 'native' | 'wasm'; nativeThreads: number } {
  return {
    engine: currentEngine() === 'native' ? 'native' : 'wasm',
    nativeThreads: nativeThreadsFor(concurrent),
  };
}

async function run(
  request: RunRequest,
  name: string,
): Promise<Extract<RunReply, { type: 'done' }>> {
  const worker = startWorkerModule(import.meta.url, './runWorker', name);
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', (m: RunReply) => {
        if (m.type === 'done') resolve(m);
        else {
          const e = new Error(`${name}: ${m.message}`);
          if (m.stack != null) e.stack = `${e.message}\n(in the worker) ${m.stack}`;
          reject(e);
        }
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`${name}: the worker exited (code ${code})`)));
      worker.postMessage(request);
    });
  } finally {
    await worker.terminate();
  }
}
