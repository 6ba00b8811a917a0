/**
 * One segmentation or detection run in a worker thread (see taskCompare.ts): its own tfjs and wasm
 * instance, the same trainTaskModel as on the main thread, so a run gives the same bits here as
 * there. `compareTaskConvs({jobs})` trains runs side by side this way, one per core.
 */
import { parentPort } from 'node:worker_threads';
import { setUpWorkerBackend } from './parallel/workerBackend.js';
import type { TaskRunReply, TaskRunRequest } from './taskCompare.js';

if (parentPort == null) {
  throw new Error(
    'doconv task run worker: must run in a worker thread (started by compareTaskConvs)',
  );
}
const port = parentPort;

port.once('message', (m: TaskRunRequest) => {
  void (async () => {
    try {
      await setUpWorkerBackend(m.backend, 'doconv task run worker');
      const { trainTaskModel } = await import('./taskTraining.js');
      const r = await trainTaskModel({ ...m.options, backend: undefined, progress: 'none' });
      r.model.dispose();
      r.folded?.dispose();
      port.postMessage({
        type: 'done',
        summary: r.summary,
        history: r.history,
      } satisfies TaskRunReply);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({
        type: 'error',
        message: err.message,
        stack: err.stack,
      } satisfies TaskRunReply);
    }
  })();
});
