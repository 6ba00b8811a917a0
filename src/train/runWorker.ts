/**
 * One training run in a worker thread (a worker_threads entry; see runInWorker.ts): its own tfjs
 * and wasm instance, the same trainModel as in the main thread, so a run gives the same bits here
 * as there. Used by `compareConvs({jobs})` to train runs side by side, one per core.
 */
import { parentPort } from 'node:worker_threads';
import { setUpWorkerBackend } from './parallel/workerBackend.js';
import type { RunReply, RunRequest } from './runInWorker.js';

if (parentPort == null) {
  throw new Error('doconv run worker: must run in a worker thread (started by runInWorker)');
}
const port = parentPort;

port.once('message', (m: RunRequest) => {
  void (async () => {
    try {
      await setUpWorkerBackend(m.backend, 'doconv run worker', [], m.engine, m.nativeThreads);
      // The same trainModel as on the main thread.
      const { trainModel } = await import('./trainModel.js');
      const { loadModelBuilder } = await import('./modelFile.js');
      // A saved model of your own crosses as its file (a builder function cannot): loaded here.
      const model =
        m.modelFile !== undefined ? await loadModelBuilder(m.modelFile) : m.options.model;
      const r = await trainModel({ ...m.options, model, backend: undefined, progress: 'none' });
      r.model.dispose();
      r.folded?.dispose();
      port.postMessage({ type: 'done', summary: r.summary, history: r.history } satisfies RunReply);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({
        type: 'error',
        message: err.message,
        stack: err.stack,
      } satisfies RunReply);
    }
  })();
});
