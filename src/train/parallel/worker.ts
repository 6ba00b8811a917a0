/**
 * One data-parallel training worker (a worker_threads entry; see parallelTrainer.ts): its own
 * tfjs, its own wasm instance with doconv's kernels, and a replica of the model. Each step it takes
 * the current weights and a shard of the batch, and returns the gradients of weight · (shard loss)
 * and its BatchNorm moving statistics. It never applies an update itself.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { correctCount, crossEntropy } from '../losses.js';
import { centerNetLoss, pixelCrossEntropy } from '../losses.js';
import { setUpWorkerBackend } from './workerBackend.js';
import type {
  FromWorker,
  GradsReply,
  HostArray,
  InitMessage,
  LossSpec,
  StepMessage,
  ToWorker,
} from './protocol.js';

if (parentPort == null) {
  throw new Error(
    'doconv parallel worker: must run in a worker thread (started by createParallelTrainer)',
  );
}
const port = parentPort;

let model: tf.LayersModel | undefined;
/** The shard's mean loss (without regularisation penalties). */
let meanLoss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function toTensor(a: HostArray): tf.Tensor {
  return tf.tensor(a.values, a.shape, a.dtype);
}

/** Writes host values into the replica's variables (same order as the main thread's lists). */
function writeWeights(vars: tf.LayerVariable[], values: Float32Array[]): void {
  if (vars.length !== values.length) {
    throw new Error(
      `doconv parallel worker: got ${values.length} weight arrays for ${vars.length} variables`,
    );
  }
  vars.forEach((v, i) => {
    // The tf.Variable itself, not LayerVariable.write: that would apply weight constraints, which
    // the main thread's optimizer step (like trainOnBatch's) does not.
    const variable = v.read() as tf.Variable;
    const t = tf.tensor(values[i], variable.shape, 'float32');
    variable.assign(t);
    t.dispose();
  });
}

async function init(m: InitMessage): Promise<void> {
  await setUpWorkerBackend(
    m.backend,
    'doconv parallel worker',
    m.imports,
    m.engine,
    m.nativeThreads,
  );
  try {
    model = (await tf.models.modelFromJSON({
      modelTopology: m.modelTopology as tf.io.ModelJSON['modelTopology'],
    })) as tf.LayersModel;
  } catch (e) {
    const message = (e as Error).message;
    if (!/Unknown layer/.test(message)) throw e;
    throw new Error(
      `${message.split('. ')[0]}: a custom layer class must be registered in the worker threads too — pass the module that registers it in workerImports (createParallelTrainer, trainModel)`,
    );
  }
  meanLoss = resolveLoss(model, m.loss);
  writeWeights(model.trainableWeights, m.trainable);
  writeWeights(model.nonTrainableWeights, m.nonTrainable);
  post({ type: 'ready', backend: tf.getBackend() });
}

function resolveLoss(net: tf.LayersModel, spec: LossSpec): typeof meanLoss {
  if (typeof spec !== 'string') {
    if ('task' in spec) return spec.task === 'segmentation' ? pixelCrossEntropy : centerNetLoss;
    const kind = spec.crossEntropy;
    return (y, pred) => crossEntropy(y, pred, kind);
  }
  // Compiled only to resolve the loss name the way tfjs-layers does (its optimizer is never used),
  // through a functional view of the same layers: a compiled Sequential keeps lossFunctions inside.
  const view = tf.model({ inputs: net.inputs, outputs: net.outputs });
  view.compile({ optimizer: 'sgd', loss: spec });
  const fn = view.lossFunctions[0];
  return (y, pred) => tf.mean(fn(y, pred)) as tf.Scalar;
}

function step(m: StepMessage): void {
  const net = model;
  if (net == null) throw new Error('doconv parallel worker: step before init');
  writeWeights(net.trainableWeights, m.trainable);
  writeWeights(net.nonTrainableWeights, m.nonTrainable);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = toTensor(m.x);
  const y = toTensor(m.y);
  try {
    stepOn(net, vars, x, y, m);
  } finally {
    // A failing step (bad labels, a kernel error) must leave nothing behind: the next one runs.
    tf.dispose([x, y]);
  }
}

function stepOn(
  net: tf.LayersModel,
  vars: tf.Variable[],
  x: tf.Tensor,
  y: tf.Tensor,
  m: StepMessage,
): void {
  let shardLoss = 0;
  let correct: number | null = null;
  // As tfjs-layers' trainOnBatch: mean loss over the shard plus the regularisation penalties, here
  // scaled by the shard's share so that the main thread's plain sum is the global-batch gradient.
  const { value, grads } = tf.variableGrads(() => {
    const pred = net.apply(x, { training: true }) as tf.Tensor;
    let loss = meanLoss(y, pred);
    for (const r of net.calculateLosses()) loss = tf.add(loss, r);
    shardLoss = loss.dataSync()[0];
    if (pred.rank === 2 && tf.util.arraysEqual(pred.shape, y.shape)) {
      correct = correctCount(y, pred).dataSync()[0];
    }
    return tf.mul(loss, m.weight) as tf.Scalar;
  }, vars);
  const out: Float32Array[] = vars.map((v) => grads[v.name].dataSync() as Float32Array);
  const stats = net.nonTrainableWeights.map((w) => w.read().dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  const reply: GradsReply = {
    type: 'grads',
    step: m.step,
    loss: shardLoss,
    correct,
    // dataSync may return a view on the wasm heap: copy before transferring.
    grads: out.map((g) => g.slice()),
    nonTrainable: stats.map((s) => s.slice()),
  };
  post(
    reply,
    [...reply.grads, ...reply.nonTrainable].map((a) => a.buffer as ArrayBuffer),
  );
}

port.on('message', (m: ToWorker) => {
  void (async () => {
    try {
      if (m.type === 'init') await init(m);
      else if (m.type === 'step') step(m);
      else if (m.type === 'memory') {
        const mem = tf.memory();
        post({ type: 'memory', numTensors: mem.numTensors, numBytes: mem.numBytes });
      } else if (m.type === 'close') {
        model?.dispose();
        port.close();
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      post({ type: 'error', message: err.message, stack: err.stack });
    }
  })();
});
