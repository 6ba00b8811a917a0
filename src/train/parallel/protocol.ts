/**
 * Messages between createParallelTrainer (main thread) and its workers. Tensors cross as
 * transferred buffers (Float32Array/Int32Array), never as JSON; the model topology crosses once,
 * as JSON, at start-up.
 */

export type HostDtype = 'float32' | 'int32';

/**
 * The loss a worker differentiates: a tfjs-layers loss name (as in model.compile({loss})), or
 * doconv's trainer cross-entropy (src/train/losses.ts) for a head that outputs logits or
 * probabilities, or a dense task's loss (src/train/losses.ts: per-pixel cross-entropy for
 * 'segmentation', CenterNet's for 'detection'). Functions cannot cross threads, so the loss is
 * named, never passed.
 */
export type LossSpec =
  string | { crossEntropy: 'logits' | 'probabilities' } | { task: 'segmentation' | 'detection' };

/** A tensor as a flat typed array plus its shape (what crosses the thread boundary). */
export interface HostArray {
  values: Float32Array | Int32Array;
  shape: number[];
  dtype: HostDtype;
}

export interface InitMessage {
  type: 'init';
  /** modules the worker imports before building the model (custom layer registrations) */
  imports: string[];
  /** tfjs backend in the worker ('wasm' unless told otherwise) */
  backend: string;
  /** on wasm, the main thread's engine (doconv's native kernels or its wasm ones) */
  engine: 'native' | 'wasm';
  /** on the native engine, oneDNN threads in this worker (the cores split among the workers) */
  nativeThreads: number;
  /** the model's topology: LayersModel.toJSON(null, false) */
  modelTopology: unknown;
  loss: LossSpec;
  trainable: Float32Array[];
  nonTrainable: Float32Array[];
}

export interface StepMessage {
  type: 'step';
  step: number;
  /** current weights (after the last update), in model.trainableWeights order */
  trainable: Float32Array[];
  /** current non-trainable weights (BatchNorm moving statistics), model.nonTrainableWeights order */
  nonTrainable: Float32Array[];
  x: HostArray;
  y: HostArray;
  /** this shard's share of the global batch: the worker scales its loss by it */
  weight: number;
}

export interface MemoryMessage {
  type: 'memory';
}

export interface CloseMessage {
  type: 'close';
}

export type ToWorker = InitMessage | StepMessage | MemoryMessage | CloseMessage;

export interface ReadyReply {
  type: 'ready';
  backend: string;
}

export interface GradsReply {
  type: 'grads';
  step: number;
  /** the shard's mean loss, unscaled */
  loss: number;
  /**
   * rows whose output's argmax is the one-hot label's (classification: output and labels both
   * [rows, classes]); null for other output shapes
   */
  correct: number | null;
  /** gradients of weight · (shard loss), in model.trainableWeights order */
  grads: Float32Array[];
  /** non-trainable weights after the forward pass (BatchNorm moving statistics of this shard) */
  nonTrainable: Float32Array[];
}

export interface MemoryReply {
  type: 'memory';
  numTensors: number;
  numBytes: number;
}

export interface ErrorReply {
  type: 'error';
  message: string;
  stack?: string;
}

export type FromWorker = ReadyReply | GradsReply | MemoryReply | ErrorReply;
