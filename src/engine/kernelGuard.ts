/**
 * The one guard every kernel doconv registers passes through (wasm replacements, native kernels,
 * and the stock wasm kernels it wraps): before the kernel runs,
 * - sizes that would wrap: explicit conv padding past 2^31 − 1, or an output with more elements
 *   than a tensor can index, is refused naming the kernel, the argument and the value (wasm's
 *   kernels and the addon's Int32Array geometry would wrap it and read unrelated memory);
 * - zero-size inputs or conv outputs (an empty batch, no channels, a 'valid' filter larger than
 *   the input, `matMul([3,0],[0,4])`) run TF.js's cpu kernel for the call, so every engine gives
 *   the cpu backend's result (zeros, or empty) instead of XNNPACK's uninitialised memory or
 *   out-of-bounds reads. Such calls are tiny (or empty), so the copies cost nothing that matters.
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}
type KernelResult = Info | Info[];

/** The most elements one tensor may have: wasm's kernels index with int32. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

const CONV_FORWARD = new Set<string>([
  tf.Conv2D,
  tf.FusedConv2D,
  tf.DepthwiseConv2dNative,
  tf.FusedDepthwiseConv2D,
]);
const CONV_BACKPROP = new Set<string>([
  tf.Conv2DBackpropInput,
  tf.Conv2DBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.DepthwiseConv2dNativeBackpropFilter,
]);

const guarded = new WeakSet<tf.KernelFunc>();

/** Whether `fn` is a kernel function made by guardKernel (tests check every registered one is). */
export function isGuardedKernel(fn: tf.KernelFunc | undefined): boolean {
  return fn !== undefined && guarded.has(fn);
}

/** `config` with its kernel behind the guard (the same name, backend and setupFunc). */
export function guardKernel(config: tf.KernelConfig): tf.KernelConfig {
  if (guarded.has(config.kernelFunc)) return config;
  const run = config.kernelFunc as unknown as (args: KernelArgs) => KernelResult;
  const name = config.kernelName;
  const kernelFunc = ((args: KernelArgs) => {
    const outputElems = checkSizes(name, args);
    if (outputElems === 0 || hasEmptyInput(args.inputs)) {
      const onCpu = runOnCpu(name, args);
      if (onCpu !== null) return onCpu;
    }
    return run(args);
  }) as unknown as tf.KernelFunc;
  guarded.add(kernelFunc);
  return { ...config, kernelFunc };
}

function hasEmptyInput(inputs: tf.NamedTensorInfoMap): boolean {
  for (const key in inputs) {
    const t = inputs[key];
    if (t != null && t.shape.some((d) => d === 0)) return true;
  }
  return false;
}

/**
 * Refuses explicit conv padding that wraps, and forward outputs too large to index; returns a
 * forward conv's output element count (XNNPACK writes out of bounds for an empty one), else null.
 */
function checkSizes(kernel: string, args: KernelArgs): number | null {
  if (!CONV_FORWARD.has(kernel) && !CONV_BACKPROP.has(kernel)) return null;
  const pad = (args.attrs as { pad?: unknown }).pad;
  if (typeof pad !== 'string') {
    const values = typeof pad === 'number' ? [pad] : Array.isArray(pad) ? pad.flat(2) : [];
    if (values.some((v) => !(Number.isInteger(v) && v >= 0 && v <= MAX_TENSOR_ELEMENTS))) {
      throw new Error(
        `doconv ${kernel}: pad ${JSON.stringify(pad)} must hold whole numbers from 0 to 2^31 − 1`,
      );
    }
  }
  if (!CONV_FORWARD.has(kernel)) return null;
  const { x, filter } = args.inputs as Record<string, Info | undefined>;
  if (x?.shape.length !== 4 || filter?.shape.length !== 4) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    (args.attrs as { strides: number | [number, number] }).strides,
    (args.attrs as { dilations?: number | [number, number] }).dilations ?? 1,
    pad as 'valid',
    (args.attrs as { dimRoundingMode?: 'floor' }).dimRoundingMode,
    CONV_FORWARD.has(kernel) && kernel.includes('Depthwise'),
  );
  const shape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  const elems = shape.reduce((a, b) => a * b, 1);
  if (elems > MAX_TENSOR_ELEMENTS) {
    throw new Error(
      `doconv ${kernel}: pad ${JSON.stringify(pad)} gives an output of shape ` +
        `${JSON.stringify(shape)} (${elems} elements), more than a tensor can hold (2^31 − 1)`,
    );
  }
  return elems;
}

/** A backend's typed-array methods the copies below use (both cpu and wasm have them). */
interface DataBackend extends tf.KernelBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
}

/** What wasm's backend has to make an output in its heap (the cpu backend has makeTensorInfo). */
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): tf.TypedArray;
}

/** A new tensor on `backend` holding `values`. */
function copyTo(
  backend: tf.KernelBackend,
  like: Info,
  values: tf.backend_util.BackendValues,
): Info {
  const heap = backend as unknown as Partial<HeapBackend>;
  if (heap.makeOutput === undefined || heap.typedArrayFromHeap === undefined) {
    return {
      dataId: backend.write(values, like.shape, like.dtype),
      shape: like.shape,
      dtype: like.dtype,
    };
  }
  const out = heap.makeOutput(like.shape, like.dtype);
  heap.typedArrayFromHeap(out).set(values as tf.TypedArray);
  return out;
}

/**
 * Runs `kernel` on TF.js's cpu backend with copies of the inputs and copies the results back to
 * `args.backend`; null (run the kernel itself) when cpu has no such kernel or a dtype it cannot
 * copy, or when the call is already on cpu.
 */
function runOnCpu(kernel: string, args: KernelArgs): KernelResult | null {
  const cpuKernel = tf.getKernel(kernel, 'cpu');
  const cpu = tf.findBackend('cpu') as DataBackend | null;
  const here = args.backend as DataBackend;
  if (cpuKernel == null || cpu == null || cpu === here) return null;
  const inputs = Object.values(args.inputs).filter((t): t is Info => t != null);
  const copyable = (t: Info) => t.dtype !== 'string' && t.dtype !== 'complex64';
  if (!inputs.every(copyable)) return null;
  // Concat and friends take an array of tensors as their inputs: keep its kind.
  const onCpu = (Array.isArray(args.inputs) ? [] : {}) as tf.NamedTensorInfoMap;
  const made: Info[] = [];
  try {
    for (const [key, t] of Object.entries(args.inputs)) {
      if (t == null) continue;
      const copy = copyTo(cpu, t, here.readSync(t.dataId));
      made.push(copy);
      onCpu[key] = copy;
    }
    const result = cpuKernel.kernelFunc({ inputs: onCpu, backend: cpu, attrs: args.attrs });
    const outs = Array.isArray(result) ? result : [result];
    made.push(...outs);
    const back = outs.map((o) => copyTo(here, o, cpu.readSync(o.dataId)));
    return Array.isArray(result) ? back : back[0];
  } finally {
    for (const t of made) cpu.disposeData(t.dataId);
  }
}
