/**
 * Which model's graph is executing now, innermost first: the outputs of the LayersModel whose
 * `call` (model.apply, predict, a nested model) or train function (fit, fitDataset, trainOnBatch)
 * is running. A layer's `call` cannot otherwise tell whether it runs as a node of a graph or was
 * called by hand, nor what the running graph hands back: the BatchNorm+ReLU fusion
 * (batchNormRelu.ts) needs both, since it returns ReLU's output in place of BatchNorm's.
 *
 * Installed on TF.js's classes once (Container's `call`, LayersModel's `makeTrainFunction`, which
 * every training entry point goes through); both run synchronously, so a stack is exact.
 */
import * as tf from '@tensorflow/tfjs';

const running: tf.SymbolicTensor[][] = [];

/** The outputs of the model whose graph runs now (the innermost), or null outside any. */
export function runningModelOutputs(): readonly tf.SymbolicTensor[] | null {
  return running.length > 0 ? running[running.length - 1] : null;
}

function during<T>(outputs: tf.SymbolicTensor[], run: () => T): T {
  running.push(outputs);
  try {
    return run();
  } finally {
    running.pop();
  }
}

type TrainFunction = (data: tf.Tensor[]) => tf.Scalar[];
interface Model {
  outputs: tf.SymbolicTensor[];
  makeTrainFunction(): TrainFunction;
}
type Call = (this: Model, inputs: unknown, kwargs: unknown) => unknown;

/** Installs the tracking on TF.js's model classes (importing doconv does it). Idempotent. */
export function installModelRunTracking(): void {
  const model = tf.LayersModel.prototype as unknown as Model & Record<symbol, boolean>;
  // Container: LayersModel's base, which holds `call` (Sequential's forwards to its inner model).
  const container = Object.getPrototypeOf(model) as { call: Call };
  const installed = Symbol.for('doconv.modelRun');
  if (model[installed]) return;
  const call = container.call;
  container.call = function (inputs, kwargs) {
    return during(this.outputs, () => call.call(this, inputs, kwargs));
  };
  const makeTrainFunction = model.makeTrainFunction;
  model.makeTrainFunction = function (this: Model) {
    const train = makeTrainFunction.call(this);
    return (data) => during(this.outputs, () => train(data));
  };
  model[installed] = true;
}

installModelRunTracking();
