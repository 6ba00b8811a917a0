/**
 * One optimizer update of one variable as a single wasm kernel, instead of the ~12 (Adam) or ~4
 * (SGD momentum) element-wise ops it takes as tensors. Why: in a training step most variables are
 * small (biases, BatchNorm, D), so the update is dominated by per-op dispatch — ResNet-20's Adam
 * update took an order of magnitude longer than PyTorch's as ops (results/README.md#engine-notes).
 *
 * Bit-exact with the op sequence (src/train/optimizers.ts): each operation is rounded to float32
 * (Math.fround) in the same order, and float32 add/mul/div/sqrt are correctly rounded in both
 * forms, so the fused and unfused updates give the same bits on every backend.
 *
 * Kernels of doconv's own (no TF.js op has these names), registered on wasm and doconv-native:
 * callers check `fusedOptimizerStep` and fall back to ops on other backends.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { currentEngine, engineState } from '../engineState.js';

export const ADAM_STEP = 'DoconvAdamStep';
export const SGD_STEP = 'DoconvSgdStep';

const f = Math.fround;

type Info = tf.TensorInfo;

function checkSameShape(kernel: string, inputs: Record<string, Info>): void {
  const entries = Object.entries(inputs);
  const first = entries[0];
  for (const [name, t] of entries) {
    if (t.dtype !== 'float32') {
      throw new Error(`${kernel}: ${name} must be float32, got ${t.dtype}`);
    }
    if (!tf.util.arraysEqual(t.shape, first[1].shape)) {
      throw new Error(
        `${kernel}: ${name} has shape ${JSON.stringify(t.shape)}, ${first[0]} has ${JSON.stringify(first[1].shape)}`,
      );
    }
  }
}

/**
 * Fresh outputs of the inputs' shape and float32 views of inputs and outputs. On wasm, views of the
 * heap, taken after every allocation (it may grow); on doconv-native (a MathBackendCPU), a tensor's
 * float32 data is its array.
 */
function outputsAndViews(
  backend: tf.KernelBackend,
  inputs: Info[],
  outputs: number,
): { outs: Info[]; ins: Float32Array[]; views: Float32Array[] } {
  const shape = inputs[0].shape;
  const wasm = backend as unknown as Partial<BackendWasm>;
  if (typeof wasm.typedArrayFromHeap === 'function') {
    const outs = Array.from({ length: outputs }, () => wasm.makeOutput!(shape, 'float32'));
    const view = (t: Info) => wasm.typedArrayFromHeap!(t) as Float32Array;
    return { outs, ins: inputs.map(view), views: outs.map(view) };
  }
  const cpu = backend as unknown as {
    readSync(dataId: object): unknown;
    makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): Info;
  };
  const views = Array.from(
    { length: outputs },
    () => new Float32Array(tf.util.sizeFromShape(shape)),
  );
  return {
    outs: views.map((v) => cpu.makeTensorInfo([...shape], 'float32', v)),
    ins: inputs.map((t) => cpu.readSync(t.dataId) as Float32Array),
    views,
  };
}

/**
 * Adam (Keras form): m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; w ← w − stepSize·m / (√v + ε).
 * Inputs {value, gradient, m, v}; attrs {beta1, beta2, epsilon, stepSize}; outputs [w, m, v].
 */
function adamStep(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): Info[] {
  const { value, gradient, m, v } = args.inputs as Record<string, Info>;
  checkSameShape(ADAM_STEP, { value, gradient, m, v });
  const a = args.attrs as { beta1: number; beta2: number; epsilon: number; stepSize: number };
  const { b1, c1, b2, c2, eps, step } = adamNumbers(a);
  const {
    outs,
    ins: [w0, g, m0, v0],
    views: [w1, m1, v1],
  } = outputsAndViews(args.backend, [value, gradient, m, v], 3);
  for (let i = 0; i < w0.length; i++) {
    const gi = g[i];
    const mi = f(f(m0[i] * b1) + f(gi * c1));
    const vi = f(f(v0[i] * b2) + f(f(gi * gi) * c2));
    m1[i] = mi;
    v1[i] = vi;
    w1[i] = w0[i] - f(f(mi / f(f(Math.sqrt(vi)) + eps)) * step);
  }
  return outs;
}

/**
 * SGD, PyTorch's momentum form: v ← μ·v + g; w ← w − lr·v (μ = 0: w ← w − lr·g, no velocity).
 * Inputs {value, gradient[, velocity]}; attrs {learningRate, momentum}; outputs [w] or [w, v].
 */
function sgdStep(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): Info[] {
  const { value, gradient, velocity } = args.inputs as Record<string, Info | undefined>;
  const { lr, mu } = sgdNumbers(args.attrs as { learningRate: number; momentum: number });
  const withMomentum = velocity !== undefined;
  const inputs = { value: value!, gradient: gradient!, ...(withMomentum ? { velocity } : {}) };
  checkSameShape(SGD_STEP, inputs as Record<string, Info>);
  const {
    outs,
    ins: [w0, g, vel0],
    views: [w1, vel1],
  } = outputsAndViews(args.backend, Object.values(inputs) as Info[], withMomentum ? 2 : 1);
  if (withMomentum) {
    for (let i = 0; i < w0.length; i++) {
      const s = f(f(vel0[i] * mu) + g[i]);
      vel1[i] = s;
      w1[i] = w0[i] - f(s * lr);
    }
  } else {
    for (let i = 0; i < w0.length; i++) w1[i] = w0[i] - f(g[i] * lr);
  }
  return outs;
}

export const adamStepConfig: tf.KernelConfig = {
  kernelName: ADAM_STEP,
  backendName: 'wasm',
  kernelFunc: adamStep as unknown as tf.KernelFunc,
};

export const sgdStepConfig: tf.KernelConfig = {
  kernelName: SGD_STEP,
  backendName: 'wasm',
  kernelFunc: sgdStep as unknown as tf.KernelFunc,
};

/** One variable's update: its value, its gradient and its slots (Adam [m, v], SGD [] or [velocity]). */
export interface VariableUpdate {
  value: tf.Variable;
  gradient: tf.Tensor;
  slots: tf.Tensor[];
}

/** The update rule and its numbers, as the fused kernels take them (attrs above). */
export type OptimizerRule =
  | { kind: 'adam'; attrs: { beta1: number; beta2: number; epsilon: number; stepSize: number } }
  | { kind: 'sgd'; attrs: { learningRate: number; momentum: number } };

/**
 * Updates whichever of `updates` it can, all in one call, and says which (the optimizer updates
 * the rest one by one). Same bits as the kernels above.
 */
export type BatchedOptimizerStep = (rule: OptimizerRule, updates: VariableUpdate[]) => boolean[];

/**
 * The one-call update of every variable it can take, where the native engine runs ops (on
 * doconv-native, or over wasm): which updates it made, or null (none made) elsewhere.
 */
export function batchedOptimizerStep(
  rule: OptimizerRule,
  updates: VariableUpdate[],
): boolean[] | null {
  const native = engineState().native;
  if (native === null || currentEngine() !== 'native' || updates.length === 0) return null;
  return native.batchedStep(rule, updates);
}

/** The float32 numbers both Adam update forms (this kernel, the native one) compute with. */
export function adamNumbers(a: {
  beta1: number;
  beta2: number;
  epsilon: number;
  stepSize: number;
}) {
  return {
    b1: f(a.beta1),
    c1: f(1 - a.beta1),
    b2: f(a.beta2),
    c2: f(1 - a.beta2),
    eps: f(a.epsilon),
    step: f(a.stepSize),
  };
}

/** The float32 numbers both SGD update forms compute with. */
export function sgdNumbers(a: { learningRate: number; momentum: number }) {
  return { lr: f(a.learningRate), mu: f(a.momentum) };
}

/**
 * Runs the fused update `kernel` when the active backend has it (wasm with doconv's kernels) and
 * returns its outputs as tensors (the caller assigns, then disposes them); null elsewhere.
 */
export function fusedOptimizerStep(
  kernel: typeof ADAM_STEP | typeof SGD_STEP,
  inputs: tf.NamedTensorMap,
  attrs: Record<string, number>,
): tf.Tensor[] | null {
  if (tf.getKernel(kernel, tf.getBackend()) == null) return null;
  return tf
    .engine()
    .runKernel(kernel, inputs, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
}
