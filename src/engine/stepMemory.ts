/**
 * A training step's peak memory, estimated from the model and the batch size before the step runs,
 * and the budget it must fit: RAM on doconv-native (and cpu, tensorflow), the 4 GiB wasm32 heap per
 * wasm instance. A step that cannot fit is refused with the model, the batch size, the estimate and
 * what to change — never `Aborted()` or "memory access out of bounds" halfway through a run.
 * Node-only (reads the machine's available memory).
 *
 *   peak ≈ weightBytes · (value + gradient + slots + new value)
 *        + ACTIVATION_FACTOR · Σ_layers outputElements · batch · 4
 *
 * ACTIVATION_FACTOR: a step keeps every layer's output for the backward pass, and the backward pass
 * holds their gradients and each op's temporaries beside them. Calibrated with tf.profile's
 * peakBytes of one Adam step on doconv-native, batch 16 (2026-12-06): the zoo's peaks are 5.2–6.7
 * times the layer outputs (MobileNet-v2 the most: ReLU6 and expansion layers); 7 keeps the estimate
 * above them (test/engine/stepMemory.test.ts measures it again).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { OptionError } from '../util/optionError.js';

/** Saved layer outputs, their gradients and op temporaries, per layer output element. */
export const ACTIVATION_FACTOR = 7;
/** The wasm32 heap of one wasm instance (each worker thread has its own). */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

export interface StepMemoryEstimate {
  /** Weights, their gradients, the optimizer's slots and the new values. */
  weightBytes: number;
  /** Layer outputs (kept for the backward pass), their gradients and temporaries. */
  activationBytes: number;
  /** Their sum: the estimated peak of one step. */
  totalBytes: number;
}

export interface StepMemoryOptions {
  /** Optimizer slots per weight (Adam 2, SGD with momentum 1). Default 2. */
  optimizerSlots?: number;
}

/** Elements of one example's output of `layer` (every output, the batch axis left out). */
function outputElements(layer: tf.layers.Layer): number {
  let shapes: unknown;
  try {
    shapes = layer.outputShape;
  } catch {
    return 0; // a layer not connected in this model (shared, or never called)
  }
  const list = (Array.isArray((shapes as unknown[])[0]) ? shapes : [shapes]) as Array<
    Array<number | null>
  >;
  return list.reduce((sum, s) => sum + s.reduce<number>((p, d) => p * (d ?? 1), 1), 0);
}

/** The estimated peak bytes of one training step of `model` on `batchSize` examples. */
export function estimateStepBytes(
  model: tf.LayersModel,
  batchSize: number,
  options: StepMemoryOptions = {},
): StepMemoryEstimate {
  const slots = options.optimizerSlots ?? 2;
  const weights = model.weights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
  const perExample = model.layers.reduce((n, layer) => n + outputElements(layer), 0);
  const weightBytes = weights * 4 * (3 + slots);
  const activationBytes = ACTIVATION_FACTOR * perExample * batchSize * 4;
  return { weightBytes, activationBytes, totalBytes: weightBytes + activationBytes };
}

/**
 * DOCONV_MEMORY_LIMIT: a byte count, or with a unit (512M, 2G, 1.5GiB); a forced budget, for tests
 * and shared machines. null when unset.
 */
export function memoryLimitFromEnv(env: NodeJS.ProcessEnv = process.env): number | null {
  const raw = env.DOCONV_MEMORY_LIMIT;
  if (raw === undefined || raw.trim() === '') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(raw);
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
  const bytes = m ? Number(m[1]) * scale[m[2].toLowerCase() as keyof typeof scale] : NaN;
  if (!(bytes >= 1)) {
    throw new Error(
      `DOCONV_MEMORY_LIMIT must be a byte count, optionally with a unit (e.g. 512M, 2G), got ${JSON.stringify(raw)}`,
    );
  }
  return Math.floor(bytes);
}

/** RAM the process can still take: MemAvailable (Linux), else the free memory the OS reports. */
function availableRam(): number {
  if (existsSync('/proc/meminfo')) {
    const line = /^MemAvailable:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (line) return Number(line[1]) * 1024;
  }
  return os.freemem();
}

export interface MemoryBudget {
  /** Bytes one step may take (per instance: on wasm each worker has its own heap). */
  bytes: number;
  /** What bounds it, for the message. */
  what: string;
}

/** The budget of a step on `backend` (default: the current one). */
export function memoryBudget(backend = tf.getBackend()): MemoryBudget {
  const forced = memoryLimitFromEnv();
  if (forced !== null) return { bytes: forced, what: 'DOCONV_MEMORY_LIMIT' };
  if (backend === 'wasm') {
    // What the heap already holds (the model, the data) is not free for the step.
    const held = backend === tf.getBackend() ? tf.memory().numBytes : 0;
    return { bytes: WASM_HEAP_BYTES - held, what: "the wasm backend's 4 GiB heap" };
  }
  return { bytes: availableRam(), what: 'the RAM available now' };
}

const GB = 2 ** 30;
const gb = (bytes: number) => `${(bytes / GB).toFixed(bytes < 10 * GB ? 2 : 1)} GB`;

/** What a step needs and the batch size that would fit, for the refusal. */
function fitsAt(model: tf.LayersModel, budget: number, options: StepMemoryOptions): number {
  const one = estimateStepBytes(model, 1, options);
  return Math.floor((budget - one.weightBytes) / one.activationBytes);
}

export interface StepMemoryCheck extends StepMemoryOptions {
  /** The model's name in the message (default: model.name). */
  modelName?: string;
  /** Worker threads sharing each step (each computes batchSize / workers). Default 1. */
  workers?: number;
  /** The budget; default memoryBudget() of the current backend. */
  budget?: MemoryBudget;
}

/**
 * Refuses a step of `model` on `batchSize` examples that would not fit the budget: an OptionError on
 * batchSize naming the model, the batch size, the estimate, the budget and what to change.
 */
export function checkStepMemory(
  model: tf.LayersModel,
  batchSize: number,
  options: StepMemoryCheck = {},
): StepMemoryEstimate {
  const workers = Math.max(1, options.workers ?? 1);
  const backend = tf.getBackend();
  const budget = options.budget ?? memoryBudget(backend);
  // With workers, each replica computes its shard; on wasm each has its own heap, elsewhere they
  // share the RAM (their weights and shards add up).
  const perInstance = backend === 'wasm' && workers > 1;
  const shard = perInstance ? Math.ceil(batchSize / workers) : batchSize;
  const estimate = estimateStepBytes(model, shard, options);
  const needed = perInstance
    ? estimate.totalBytes
    : estimate.totalBytes + (workers - 1) * estimate.weightBytes;
  if (needed <= budget.bytes) return estimate;
  throw stepMemoryError(model, batchSize, { ...options, workers, budget, needed });
}

/**
 * The refusal for a step of `batchSize` that does not fit (`needed` bytes estimated, or unknown at
 * a step that failed): what to change, in the library's option names (the CLI shows its flags).
 */
export function stepMemoryError(
  model: tf.LayersModel,
  batchSize: number,
  info: StepMemoryCheck & { needed?: number; cause?: string },
): OptionError {
  const name = info.modelName ?? model.name;
  const budget = info.budget ?? memoryBudget();
  const backend = tf.getBackend();
  const fits = fitsAt(model, budget.bytes, info);
  const workers = info.workers ?? 1;
  return new OptionError(['batchSize', 'workers'], (n) => {
    const what =
      info.needed !== undefined
        ? `a training step of ${name} at ${n('batchSize')} ${batchSize} needs about ${gb(info.needed)} ` +
          `(estimated from its layers) but ${budget.what} allows ${gb(budget.bytes)} on backend '${backend}'`
        : `a training step of ${name} at ${n('batchSize')} ${batchSize} ran out of memory on backend '${backend}' ` +
          `(${info.cause ?? 'allocation failed'}; ${budget.what}: ${gb(budget.bytes)})`;
    const smaller =
      fits >= 1 && fits < batchSize
        ? `lower ${n('batchSize')} to ${fits} or less`
        : `lower ${n('batchSize')}`;
    const workersHint =
      backend === 'wasm'
        ? `, or spread each batch over more wasm instances with ${n('workers')} (now ${workers}; each has its own 4 GiB heap), ` +
          'or use the doconv-native backend (the native addon built), whose tensors live in RAM'
        : workers > 1
          ? `, or use fewer ${n('workers')} (now ${workers}: each holds a copy of the model)`
          : '';
    return `${what}; ${smaller}${workersHint}`;
  });
}

/** Whether `e` is a failed allocation: wasm's abort or out-of-bounds access, V8's array buffer refusal. */
export function isOutOfMemory(e: unknown): boolean {
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return /Aborted\(|memory access out of bounds|Array buffer allocation failed|Invalid typed array length|Cannot enlarge memory|out of memory|RangeError: WebAssembly\.Memory/i.test(
    message,
  );
}
