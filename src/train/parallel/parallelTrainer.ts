/**
 * Data-parallel training on worker threads (Node only): wasm runs single-threaded in Node, so the
 * way to use a second core is a second wasm instance. Each step splits the global batch into
 * contiguous shards, each worker computes the gradient of (its share) × (its shard's mean loss) on a
 * replica, the main thread sums them in a fixed order (worker 0 first), the optimizer applies the
 * sum once to the main thread's model, and the new weights go out with the next step.
 *
 * BatchNorm: each worker normalises with its own shard's batch statistics (as PyTorch DDP without
 * SyncBatchNorm). The moving mean/variance kept in the model are the shard-size-weighted average of
 * the workers' updated statistics (for equal shards: the mean of the shards' moving averages), and
 * every replica starts each step from those.
 *
 * Repeatability: same initial weights and the same batches give the same bits on every run (fixed
 * shards, fixed reduction order, single-threaded deterministic kernels in each worker). Layers that
 * draw random numbers while training (dropout) are not seeded across threads.
 */
import * as tf from '@tensorflow/tfjs';
import type {
  GradsReply,
  HostArray,
  HostDtype,
  LossSpec,
  MemoryReply,
  ToWorker,
} from './protocol.js';
import { nativeThreadsFor } from '../../engine/native/nativeAddon.js';
import { currentEngine } from '../../engine/engineState.js';
import { shardRanges, weightedSumInOrder } from './shards.js';
import { startWorker, WorkerHandle } from './workerHandle.js';
import { checkWorkerCount } from './workerLimits.js';
import { allFinite, describeNonFinite, NonFiniteError } from '../nonFinite.js';

export interface ParallelTrainerOptions {
  /**
   * The model to train, built on the main thread as usual (zoo builder, tf.sequential, ...). It
   * holds the master weights: after each step it has the updated weights and BatchNorm statistics,
   * ready to evaluate or save. Single input, single output.
   */
  model: tf.LayersModel;
  /** Applied once per step on the main thread, to the summed gradient (trainStep only). */
  optimizer: tf.Optimizer;
  /**
   * A tfjs-layers loss name, as in model.compile({loss}), e.g. 'categoricalCrossentropy'; or
   * `{crossEntropy: 'logits' | 'probabilities'}`, the loss doconv's trainer uses.
   */
  loss: LossSpec;
  /** Worker threads; default 2. Each has its own tfjs and wasm instance (~30 MB plus activations). */
  workers?: number;
  /**
   * Start more workers than this machine has cores, or than its free memory holds at ~64 MiB each
   * (./workerLimits.ts); default false: such counts are refused naming `workers`.
   */
  oversubscribe?: boolean;
  /** Backend in the workers; default 'wasm' (with doconv's training kernels). */
  backend?: string;
  /**
   * Modules each worker imports before building its replica, for custom layers registered with
   * tf.serialization.registerClass (doconv's own layers are always registered). Absolute file
   * URLs or package names.
   */
  workerImports?: string[];
}

export interface ParallelStepResult {
  /** mean loss over the global batch (as trainOnBatch reports it) */
  loss: number;
  /** mean loss of each worker's shard, worker 0 first (0 for a worker with no rows) */
  shardLosses: number[];
  /**
   * rows of the batch whose output's argmax is the one-hot label's, for a classifier (output and
   * labels both [rows, classes]); null for other output shapes
   */
  correct: number | null;
}

/** What `gradients` returns: a step's result plus the summed gradient, not yet applied. */
export interface ParallelGradients extends ParallelStepResult {
  /**
   * d(mean loss over the global batch)/d(weight), one tensor per model.trainableWeights entry, in
   * that order. The caller owns them (dispose after use).
   */
  grads: tf.Tensor[];
}

export interface ParallelTrainer {
  /** Worker threads in use. */
  readonly workers: number;
  /** The backend each worker runs. */
  readonly backend: string;
  /**
   * One optimizer step on the global batch xs/ys (first axis: examples), split across the workers.
   * Steps run one at a time: a call made while one is running waits for it.
   */
  trainStep(xs: tf.Tensor, ys: tf.Tensor): Promise<ParallelStepResult>;
  /**
   * The forward and backward half of a step, for callers that transform gradients before their
   * own update (weight decay, clipping): the workers' summed gradient, with the BatchNorm moving
   * statistics updated as a training-mode forward pass does; the trainable weights are untouched.
   */
  gradients(xs: tf.Tensor, ys: tf.Tensor): Promise<ParallelGradients>;
  /** tf.memory() of each worker (numTensors, numBytes), worker 0 first: for leak checks. */
  workerMemory(): Promise<Array<{ numTensors: number; numBytes: number }>>;
  /** Stops the workers and waits until they have exited. The model stays usable. */
  dispose(): Promise<void>;
}

/** How long dispose() waits for a worker to exit on its own before terminating it. */
const DISPOSE_GRACE_MS = 10_000;

async function hostRows(t: tf.Tensor, ranges: Array<[number, number]>): Promise<HostArray[]> {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') {
    throw new Error(
      `createParallelTrainer: trainStep inputs must be float32 or int32, got ${JSON.stringify(t.dtype)}`,
    );
  }
  const values = (await t.data()) as Float32Array | Int32Array;
  const row = t.size / t.shape[0];
  return ranges.map(([a, b]) => ({
    values: values.slice(a * row, b * row),
    shape: [b - a, ...t.shape.slice(1)],
    dtype: t.dtype as HostDtype,
  }));
}

function readWeights(vars: tf.LayerVariable[]): Float32Array[] {
  return vars.map((v) => (v.read().dataSync() as Float32Array).slice());
}

/**
 * Starts `workers` worker threads, each with its own tfjs/wasm and a replica of `model`, and
 * returns a trainer whose trainStep runs one data-parallel optimizer step. Node only.
 */
export async function createParallelTrainer(
  options: ParallelTrainerOptions,
): Promise<ParallelTrainer> {
  const { model, optimizer } = options;
  const { workers, backend } = checkOptions(options);
  const replicas = await startReplicas(options, workers, backend);
  let stepCount = 0;
  let queue: Promise<unknown> = Promise.resolve();
  let disposed = false;

  const runGradients = (xs: tf.Tensor, ys: tf.Tensor): Promise<ParallelGradients> => {
    if (disposed) throw new Error('createParallelTrainer: a step after dispose()');
    return shardedGradients(replicas, xs, ys, stepCount++);
  };
  const runStep = async (xs: tf.Tensor, ys: tf.Tensor): Promise<ParallelStepResult> => {
    const { grads, ...result } = await runGradients(xs, ys);
    try {
      tf.tidy(() => {
        const named: tf.NamedTensorMap = {};
        model.trainableWeights.forEach(
          (v, i) => (named[(v.read() as tf.Variable).name] = grads[i]),
        );
        optimizer.applyGradients(named);
      });
    } finally {
      tf.dispose(grads);
    }
    return result;
  };
  /** Runs `fn` after the step in flight, if any: steps run one at a time. */
  const queued = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    workers,
    backend,
    trainStep: (xs, ys) => queued(() => runStep(xs, ys)),
    gradients: (xs, ys) => queued(() => runGradients(xs, ys)),
    async workerMemory() {
      await queue;
      return Promise.all(
        replicas.handles.map(async (h) => {
          const m = await h.request<MemoryReply>({ type: 'memory' }, 'memory');
          return { numTensors: m.numTensors, numBytes: m.numBytes };
        }),
      );
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await queue;
      for (const h of replicas.handles) h.close();
      // A worker that does not exit on request (wedged in a kernel) is terminated: dispose settles.
      await Promise.all(replicas.handles.map((h) => h.closed(DISPOSE_GRACE_MS)));
    },
  };
}

/** The worker count and backend, with the options checked (errors name the option and value). */
function checkOptions(options: ParallelTrainerOptions): { workers: number; backend: string } {
  const { model, optimizer, loss } = options;
  const workers = options.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new Error(
      `createParallelTrainer: workers must be an integer ≥ 1, got ${JSON.stringify(options.workers)}`,
    );
  }
  checkWorkerCount(workers, options.oversubscribe);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(
      `createParallelTrainer: model must have one input and one output, got ${model.inputs.length} and ${model.outputs.length}`,
    );
  }
  if (typeof (optimizer as Partial<tf.Optimizer> | undefined)?.applyGradients !== 'function') {
    throw new Error(
      `createParallelTrainer: optimizer must be a tf.Optimizer instance (e.g. tf.train.adam(1e-3)), got ${JSON.stringify(optimizer)}`,
    );
  }
  checkLossSpec(loss);
  return { workers, backend: options.backend ?? 'wasm' };
}

/** The worker threads holding the model's replicas, and the model's variables they mirror. */
interface Replicas {
  handles: WorkerHandle[];
  workers: number;
  trainableVars: tf.LayerVariable[];
  nonTrainableVars: tf.LayerVariable[];
}

/** Starts the workers and builds a replica of the model in each; none is left running on failure. */
async function startReplicas(
  options: ParallelTrainerOptions,
  workers: number,
  backend: string,
): Promise<Replicas> {
  const { model, loss } = options;
  const trainableVars = model.trainableWeights;
  const nonTrainableVars = model.nonTrainableWeights;
  const modelTopology = model.toJSON(null, false);
  const handles = Array.from(
    { length: workers },
    (_, i) => new WorkerHandle(i, startWorker(`doconv-parallel-${i}`)),
  );
  try {
    const trainable = readWeights(trainableVars);
    const nonTrainable = readWeights(nonTrainableVars);
    const init: ToWorker = {
      type: 'init',
      imports: options.workerImports ?? [],
      backend,
      engine: currentEngine() === 'native' ? 'native' : 'wasm',
      nativeThreads: nativeThreadsFor(workers),
      modelTopology,
      loss: loss as LossSpec,
      trainable,
      nonTrainable,
    };
    await Promise.all(handles.map((h) => h.request(init, 'ready')));
  } catch (e) {
    await Promise.all(handles.map((h) => h.terminate()));
    throw e;
  }
  return { handles, workers, trainableVars, nonTrainableVars };
}

/**
 * One step's gradients: the batch split into shards, each worker's forward/backward on its shard
 * with the current weights, the replies merged in order (BatchNorm statistics taken over, gradients
 * summed). A non-finite loss or gradient throws NonFiniteError before anything is taken over.
 */
async function shardedGradients(
  replicas: Replicas,
  xs: tf.Tensor,
  ys: tf.Tensor,
  step: number,
): Promise<ParallelGradients> {
  const batch = xs.shape[0];
  if (ys.shape[0] !== batch) {
    throw new Error(
      `createParallelTrainer: trainStep xs and ys must have the same number of rows, got ${JSON.stringify(xs.shape)} and ${JSON.stringify(ys.shape)}`,
    );
  }
  const ranges = shardRanges(batch, replicas.workers);
  const active = ranges.map(([a, b], w) => ({ w, n: b - a })).filter((s) => s.n > 0);
  const [xRows, yRows] = await Promise.all([hostRows(xs, ranges), hostRows(ys, ranges)]);
  const trainable = readWeights(replicas.trainableVars);
  const nonTrainable = readWeights(replicas.nonTrainableVars);
  // Each worker gets its own copy of the weights: transferring hands a buffer over.
  const copies = active.map((_, k) =>
    k === 0
      ? { tw: trainable, nw: nonTrainable }
      : { tw: trainable.map((a) => a.slice()), nw: nonTrainable.map((a) => a.slice()) },
  );
  // Every request settles before the step does (allSettled): a worker that failed must not leave
  // another one busy, or the next step would be refused. The first failure is the step's error.
  const settled = await Promise.allSettled(
    active.map(({ w, n }, k) => {
      const { tw, nw } = copies[k];
      const message: ToWorker = {
        type: 'step',
        step,
        trainable: tw,
        nonTrainable: nw,
        x: xRows[w],
        y: yRows[w],
        weight: n / batch,
      };
      const transfer = [...tw, ...nw, xRows[w].values, yRows[w].values].map(
        (a) => a.buffer as ArrayBuffer,
      );
      return replicas.handles[w].request<GradsReply>(message, 'grads', transfer);
    }),
  );
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const replies = settled.map((r) => (r as PromiseFulfilledResult<GradsReply>).value);
  return mergeReplies(replicas, replies, active, ranges, batch);
}

/** The workers' replies as one step's result (in worker order, so the sums are deterministic). */
function mergeReplies(
  { trainableVars, nonTrainableVars }: Replicas,
  replies: GradsReply[],
  active: Array<{ w: number; n: number }>,
  ranges: Array<[number, number]>,
  batch: number,
): ParallelGradients {
  // Non-finite loss or gradient: refuse before the BatchNorm statistics are taken over.
  if (!replies.every((r) => Number.isFinite(r.loss) && r.grads.every(allFinite))) {
    const loss = replies.find((r) => !Number.isFinite(r.loss))?.loss ?? 0;
    const names = trainableVars.map((v) => v.originalName);
    const bad = replies.flatMap((r) => r.grads.map((g, i) => ({ name: names[i], values: g })));
    throw new NonFiniteError(describeNonFinite(loss, bad));
  }
  const weights = active.map((s) => s.n / batch);
  tf.tidy(() => {
    nonTrainableVars.forEach((v, i) => {
      const avg = weightedSumInOrder(
        replies.map((r) => r.nonTrainable[i]),
        weights,
      );
      const variable = v.read() as tf.Variable;
      variable.assign(tf.tensor(avg, variable.shape, 'float32'));
    });
  });
  // Made last, so nothing above can fail with them unreturned.
  const grads = trainableVars.map((v, i) => {
    const sum = weightedSumInOrder(
      replies.map((r) => r.grads[i]),
      replies.map(() => 1), // each worker already scaled its loss by its share
    );
    return tf.tensor(sum, v.read().shape, 'float32');
  });
  const shardLosses = ranges.map(() => 0);
  active.forEach((s, k) => (shardLosses[s.w] = replies[k].loss));
  const counts = replies.map((r) => r.correct);
  return {
    grads,
    loss: active.reduce((acc, s, k) => acc + weights[k] * replies[k].loss, 0),
    shardLosses,
    correct: counts.every((c) => c !== null) ? counts.reduce((a, c) => a + c!, 0) : null,
  };
}

function checkLossSpec(loss: unknown): asserts loss is LossSpec {
  if (typeof loss === 'string') return;
  const kind = (loss as { crossEntropy?: unknown } | null)?.crossEntropy;
  if (kind === 'logits' || kind === 'probabilities') return;
  const task = (loss as { task?: unknown } | null)?.task;
  if (task === 'segmentation' || task === 'detection') return;
  throw new Error(
    `createParallelTrainer: loss must be a tfjs-layers loss name, {crossEntropy: 'logits' | 'probabilities'} or {task: 'segmentation' | 'detection'} (functions cannot cross threads), got ${typeof loss === 'function' ? 'a function' : JSON.stringify(loss)}`,
  );
}
