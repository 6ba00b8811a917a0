/**
 * compileInference: a folded model as one native inference plan (native/src/plan.h) — its oneDNN
 * primitives, filters and intermediate buffers made once, the whole net run in one addon call —
 * instead of TF.js's op-by-op model.predict. Node only, native addon required.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeAddon, type NativeAddon } from './nativeAddon.js';
import { planRecordsOf, type PlanRecords } from './inferencePlanOps.js';

export { UnsupportedLayerError } from './inferencePlanOps.js';

/** Options of `compileInference`. */
export interface CompileInferenceOptions {
  /**
   * The batch the plan is built for (its buffers hold this many examples). A smaller batch gets a
   * plan of its own, built on first use and kept until dispose(); a larger one runs in chunks of
   * this size.
   */
  batchSize: number;
  /**
   * oneDNN threads of the plan's large ops (small ones run on one thread: waking the team costs
   * more); default: the native engine's current count (every core, or DOCONV_NATIVE_THREADS).
   */
  threads?: number;
}

/** A compiled model: `predict` as model.predict, on the native engine, in one call a batch. */
export interface CompiledInference {
  readonly batchSize: number;
  /** One example's input shape, e.g. [32, 32, 3]. */
  readonly inputShape: number[];
  /** One example's output shape, e.g. [10]. */
  readonly outputShape: number[];
  /** The plan's ops, one line each, with the layers each fuses. */
  readonly ops: string[];
  /** The model's output for x [n, ...inputShape]: a new tensor (the caller disposes it). */
  predict(x: tf.Tensor): tf.Tensor;
  /** The same for n examples as one flat array (n · inputShape values, row-major). */
  predict(x: Float32Array): Float32Array;
  /**
   * The batchSize plan's steps, one line each: oneDNN's implementation, the thread count and the
   * mean wall time per run so far (where a net's time goes).
   */
  describe(): string;
  /** Frees the plans' native memory (idempotent); predict throws after. */
  dispose(): void;
}

type PlanHandle = object;
interface PlanAddon extends NativeAddon {
  createInferencePlan(
    inputShape: Float64Array,
    records: Float64Array,
    weights: Float32Array[],
  ): PlanHandle;
  runInferencePlan(plan: PlanHandle, x: Float32Array, y: Float32Array): void;
  inferencePlanInfo(plan: PlanHandle): { outputShape: number[]; bytes: number; steps: string };
  freeInferencePlan(plan: PlanHandle): void;
}

/** The addon with its plan functions, or why not. */
export function inferencePlanAddon(): PlanAddon | string {
  const addon = nativeAddon() as PlanAddon | null;
  if (addon == null) return 'the native addon is not built or not loadable (npm run build:native)';
  if (typeof addon.createInferencePlan !== 'function') {
    return 'the native addon predates inference plans; rebuild it (npm run build:native)';
  }
  return addon;
}

function checkBatchSize(batchSize: unknown): number {
  if (!Number.isInteger(batchSize) || (batchSize as number) < 1) {
    throw new Error(
      `compileInference: batchSize must be a whole number ≥ 1, got ${String(batchSize)}`,
    );
  }
  return batchSize as number;
}

/**
 * Compiles a folded classification model (foldModel(model, {fuseBatchNorm: true}); plain
 * tf.layers models too) for the native engine. Throws, naming the layer, for a layer it cannot
 * compile (e.g. an unfolded DO-Conv layer) — use model.predict then — and when the addon is not
 * built. The model may be disposed after: the plan holds its own copy of the weights.
 */
export function compileInference(
  model: tf.LayersModel,
  options: CompileInferenceOptions,
): CompiledInference {
  const addon = inferencePlanAddon();
  if (typeof addon === 'string') throw new Error(`compileInference: ${addon}`);
  const batchSize = checkBatchSize(options?.batchSize);
  const threads = options.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 1024)) {
    throw new Error(
      `compileInference: threads must be a whole number from 1 to 1024, got ${threads}`,
    );
  }
  const recs: PlanRecords = planRecordsOf(model);
  if (recs.inputShape.length > 3 || recs.inputShape.some((d) => !(d >= 1))) {
    throw new Error(
      `compileInference: the input shape ${JSON.stringify(model.inputs[0].shape)} is not compiled (fixed, rank 2 to 4)`,
    );
  }
  const exampleElems = recs.inputShape.reduce((a, b) => a * b, 1);
  const outputElems = recs.outputShape.reduce((a, b) => a * b, 1);
  const plans = new Map<number, PlanHandle>();
  let disposed = false;

  const planFor = (n: number): PlanHandle => {
    const known = plans.get(n);
    if (known !== undefined) return known;
    const saved = addon.getThreads();
    if (threads !== undefined) addon.setThreads(threads);
    try {
      const shape = new Float64Array([n, ...nhwc(recs.inputShape)]);
      const plan = addon.createInferencePlan(shape, recs.records, recs.weights);
      const got = addon.inferencePlanInfo(plan).outputShape.reduce((a, b) => a * b, 1);
      if (got !== n * outputElems) {
        addon.freeInferencePlan(plan);
        throw new Error(
          `compileInference: internal error: the plan's output has ${got} values for ${n} examples, the model's ${n * outputElems}`,
        );
      }
      plans.set(n, plan);
      return plan;
    } finally {
      if (threads !== undefined) addon.setThreads(saved);
    }
  };
  planFor(batchSize); // built now: a model the plan refuses fails here, not on first predict

  const run = (x: Float32Array): Float32Array => {
    const n = x.length / exampleElems;
    const y = new Float32Array(n * outputElems);
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      addon.runInferencePlan(
        planFor(count),
        x.subarray(start * exampleElems, (start + count) * exampleElems),
        y.subarray(start * outputElems, (start + count) * outputElems),
      );
    }
    return y;
  };

  function predict(x: tf.Tensor): tf.Tensor;
  function predict(x: Float32Array): Float32Array;
  function predict(x: tf.Tensor | Float32Array): tf.Tensor | Float32Array {
    if (disposed) throw new Error('compileInference: predict after dispose()');
    if (x instanceof Float32Array) {
      if (x.length === 0 || x.length % exampleElems !== 0) {
        throw new Error(
          `compileInference predict: x has ${x.length} values, expected a positive multiple of ${exampleElems} (examples of shape ${JSON.stringify(recs.inputShape)})`,
        );
      }
      return run(x);
    }
    const expected = [x.shape[0], ...recs.inputShape];
    if (x.rank !== expected.length || x.shape.some((d, i) => d !== expected[i]) || x.shape[0] < 1) {
      throw new Error(
        `compileInference predict: x has shape ${JSON.stringify(x.shape)}, expected [n, ${recs.inputShape.join(', ')}]`,
      );
    }
    const data =
      x.dtype === 'float32' ? (x.dataSync() as Float32Array) : Float32Array.from(x.dataSync());
    return tf.tensor(run(data), [x.shape[0], ...recs.outputShape], 'float32');
  }

  return {
    batchSize,
    inputShape: recs.inputShape,
    outputShape: recs.outputShape,
    ops: recs.ops,
    predict,
    describe() {
      if (disposed) throw new Error('compileInference: describe after dispose()');
      return addon.inferencePlanInfo(planFor(batchSize)).steps;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const plan of plans.values()) addon.freeInferencePlan(plan);
      plans.clear();
    },
  };
}

/** One example's shape as the plan's [h, w, c] (rank 1 → [1, 1, c], rank 2 → [1, a, b]). */
function nhwc(shape: number[]): [number, number, number] {
  const s = [1, 1, 1, ...shape].slice(-3);
  return [s[0], s[1], s[2]];
}
