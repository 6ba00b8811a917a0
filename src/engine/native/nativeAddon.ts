/**
 * The native engine's addon, loaded once, lazily, and only in Node: a local build
 * (native/build/doconv_native.node, from `doconv build-native` or `npm run build:native`), else the
 * prebuilt platform package npm installed from doconv's optionalDependencies (@doconv/linux-x64-gnu
 * …, made by native/package.mjs). Neither there or loadable → null, and doconv runs on wasm.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * An operand of the addon's kernels (native/src/addon.cc): a Float32Array read or written in place
 * (the doconv-native backend's tensors), or a byte offset into `heap` (the wasm backend's).
 */
export type Operand = number | Float32Array;
/** Several operands: a Float64Array of heap byte offsets, or the arrays. */
export type OperandList = Float64Array | Float32Array[];
/** The wasm heap, or null when every operand is an array. */
export type Heap = ArrayBufferLike | null;

/** The addon's functions (native/src/addon.cc). */
export interface NativeAddon {
  convForward(
    heap: Heap,
    geom: Int32Array,
    x: Operand,
    filter: Operand,
    bias: Operand,
    y: Operand,
    alpha: number,
  ): void;
  convBackwardData(heap: Heap, geom: Int32Array, dy: Operand, filter: Operand, dx: Operand): void;
  convBackwardWeights(heap: Heap, geom: Int32Array, x: Operand, dy: Operand, dw: Operand): void;
  /** geom: [batch, aBatch, bBatch, m, k, n, transposeA, transposeB] (native/src/matmul.h) */
  matMul(heap: Heap, geom: Int32Array, a: Operand, b: Operand, y: Operand): void;
  /** geom: [op, rows, channels, aMode, bMode] (native/src/eltwise.h); y = a op b, broadcast per mode */
  binary(heap: Heap, geom: Int32Array, a: Operand, b: Operand, y: Operand): void;
  /** geom: [op, size]; alpha is Step's value for x ≤ 0 */
  unary(heap: Heap, geom: Int32Array, x: Operand, y: Operand, alpha: number): void;
  /** geom: [rows, inner, outer]; y[o, j] = scale · Σ_r x[o, r, j] */
  reduceRows(heap: Heap, geom: Int32Array, x: Operand, y: Operand, scale: Operand): void;
  /** geom: [rows, inner, outer], rows ≥ 1; y[o, j] = max over r of x[o, r, j], NaN sticking */
  maxRows(heap: Heap, geom: Int32Array, x: Operand, y: Operand): void;
  /** geom: ResizeGeom (native/src/resize.h): [n, h, w, c, oh, ow, alignCorners, halfPixelCenters] */
  resizeBilinear(heap: Heap, geom: Int32Array, images: Operand, y: Operand): void;
  /** the same geometry; dx (the images' shape) from dy; halfPixelCenters is ignored, as on cpu */
  resizeBilinearGrad(heap: Heap, geom: Int32Array, dy: Operand, dx: Operand): void;
  /** geom: [block, repeats, outer]; y[o] = x[o] repeated */
  tile(heap: Heap, geom: Int32Array, x: Operand, y: Operand): void;
  /** geom: [rows, channels, hasScale, hasOffset]; scale/offset -1 when absent */
  batchNorm(
    heap: Heap,
    geom: Int32Array,
    x: Operand,
    mean: Operand,
    variance: Operand,
    scale: Operand,
    offset: Operand,
    y: Operand,
    epsilon: number,
  ): void;
  /** geom: [outer, inner_0 …]; parts: the parts; y = rows of the parts' blocks */
  concat(heap: Heap, geom: Int32Array, parts: OperandList, y: Operand): void;
  split(heap: Heap, geom: Int32Array, x: Operand, parts: OperandList): void;
  /** geom: [size]; dx = dy · step(x) */
  reluGrad(heap: Heap, geom: Int32Array, dy: Operand, x: Operand, dx: Operand): void;
  /** relu(a + b) (geom: [size]); absent from addons built before it */
  addRelu?(heap: Heap, geom: Int32Array, a: Operand, b: Operand, y: Operand): void;
  /** geom: [size, mode]; y = clip(x, lo, hi) as ClipByValue (mode unused) */
  clip(heap: Heap, geom: Int32Array, x: Operand, y: Operand, lo: number, hi: number): void;
  /** geom: [size, mode]: ClipByValue's (0) or Relu6's (1) gradient (native/src/eltwise.h) */
  clipGrad(
    heap: Heap,
    geom: Int32Array,
    dy: Operand,
    x: Operand,
    dx: Operand,
    lo: number,
    hi: number,
  ): void;
  /** geom: [rows, channels]; sumDy = Σ dy, sumDyXc = Σ dy·(x − mean), per channel */
  batchNormGradSums(
    heap: Heap,
    geom: Int32Array,
    dy: Operand,
    x: Operand,
    mean: Operand,
    sumDy: Operand,
    sumDyXc: Operand,
  ): void;
  /** geom: PoolGeom (native/src/eltwise.h); y = max over each window of x (NHWC) */
  maxPool(heap: Heap, geom: Int32Array, x: Operand, y: Operand): void;
  /** geom: PoolGeom; dx = dy sent to each window's max */
  maxPoolGrad(heap: Heap, geom: Int32Array, x: Operand, dy: Operand, dx: Operand): void;
  /** geom: BoxGeom (native/src/eltwise.h); small = big's box, or big's box = small */
  boxCopy(heap: Heap, geom: Int32Array, big: Operand, small: Operand): void;
  /** geom: [rows, channels]; per-channel mean and biased variance of x [rows, channels] */
  batchNormStats(heap: Heap, geom: Int32Array, x: Operand, mean: Operand, variance: Operand): void;
  /** geom: [rows, classes] (native/src/softmax.h); y = softmax of each row, tfjs-backend-cpu's bits */
  softmax(heap: Heap, geom: Int32Array, logits: Operand, y: Operand): void;
  /** geom: [rows, classes] (native/src/softmax.h); per-row loss and the softmax */
  softmaxCrossEntropy(
    heap: Heap,
    geom: Int32Array,
    labels: Operand,
    logits: Operand,
    loss: Operand,
    softmax: Operand,
  ): void;
  /** geom: [rows, classes]; dLogits = dy · (softmax · Σ labels − labels) */
  softmaxCrossEntropyGrad(
    heap: Heap,
    geom: Int32Array,
    dy: Operand,
    softmax: Operand,
    labels: Operand,
    dLogits: Operand,
  ): void;
  /** geom: [rows, channels, hasScale]; BatchNorm's dx in training (native/src/eltwise.h) */
  batchNormTrainGradInput(
    heap: Heap,
    geom: Int32Array,
    dy: Operand,
    x: Operand,
    mean: Operand,
    variance: Operand,
    scale: Operand,
    sumDy: Operand,
    sumDyXc: Operand,
    dMean: Operand,
    dVariance: Operand,
    dx: Operand,
    epsilon: number,
  ): void;
  /**
   * geom: [rows, channels] (native/src/batchNormRelu.h); z = min(max(BatchNorm(x), 0), cap), the
   * batch's mean and variance given; cap Infinity for a plain ReLU.
   */
  batchNormRelu(
    heap: Heap,
    geom: Int32Array,
    x: Operand,
    mean: Operand,
    variance: Operand,
    scale: Operand,
    offset: Operand,
    z: Operand,
    epsilon: number,
    cap: number,
  ): void;
  /** batchNormGradSums with dy masked by the ReLU's gradient at BatchNorm(x) */
  batchNormReluGradSums(
    heap: Heap,
    geom: Int32Array,
    dy: Operand,
    x: Operand,
    mean: Operand,
    variance: Operand,
    scale: Operand,
    offset: Operand,
    sumDy: Operand,
    sumDyXc: Operand,
    epsilon: number,
    cap: number,
  ): void;
  /** batchNormTrainGradInput with dy masked by the ReLU's gradient at BatchNorm(x) */
  batchNormReluGradInput(
    heap: Heap,
    geom: Int32Array,
    dy: Operand,
    x: Operand,
    mean: Operand,
    variance: Operand,
    scale: Operand,
    offset: Operand,
    sumDy: Operand,
    sumDyXc: Operand,
    dMean: Operand,
    dVariance: Operand,
    dx: Operand,
    epsilon: number,
    cap: number,
  ): void;
  /**
   * Whether the composition kernels below take dDiag -1 for the identity pattern
   * (native/src/compose.h); a checkout's build from before that needs the tensor.
   */
  composeIdentityDiag?: boolean;
  /** geom: [area, dMul, channels, filters, groups] (native/src/compose.h); dDiag -1: identity */
  compose(heap: Heap, geom: Int32Array, d: Operand, dDiag: Operand, w: Operand, k: Operand): void;
  composeGrad(
    heap: Heap,
    geom: Int32Array,
    dk: Operand,
    d: Operand,
    dDiag: Operand,
    w: Operand,
    dD: Operand,
    dW: Operand,
  ): void;
  /**
   * DO-Conv's conv passes with K composed inside (groups 1; native/src/compose.h): geom is the
   * conv's geometry followed by the composition's. bias -1: none.
   */
  composedConvForward(
    heap: Heap,
    geom: Int32Array,
    x: Operand,
    d: Operand,
    dDiag: Operand,
    w: Operand,
    bias: Operand,
    y: Operand,
    alpha: number,
  ): void;
  composedConvBackwardData(
    heap: Heap,
    geom: Int32Array,
    dy: Operand,
    d: Operand,
    dDiag: Operand,
    w: Operand,
    dx: Operand,
  ): void;
  composedConvBackwardWeights(
    heap: Heap,
    geom: Int32Array,
    x: Operand,
    dy: Operand,
    d: Operand,
    dDiag: Operand,
    w: Operand,
    dD: Operand,
    dW: Operand,
  ): void;
  /**
   * Every variable's optimizer update in place (native/src/optimizer.h): kind 0 Adam, 1 SGD,
   * 2 SGD with momentum; sizes per variable, its operands (value, gradient, slots, new value), the kind's params.
   */
  optimizerStep(
    heap: Heap,
    kind: number,
    sizes: Float64Array,
    operands: OperandList,
    params: Float64Array,
  ): void;
  /** oneDNN threads for ops run from the calling thread (OpenMP's per-thread setting). */
  setThreads(n: number): void;
  getThreads(): number;
  /**
   * The work below which an op runs on the calling thread alone (waking OpenMP's team costs more):
   * elements for element-wise loops, multiply-adds for convs and matmuls. Process-wide; the
   * default follows the waiting policy (docs/engine.md#thread-count-by-work).
   */
  setParallelMin(elements: number, multiplyAdds: number): void;
  getParallelMin(): [elements: number, multiplyAdds: number];
  /** Bytes and buffers the addon holds (all threads); cached primitives of the calling thread. */
  stats(): { liveBytes: number; liveBuffers: number; cacheEntries: number };
  clearCache(): void;
  convImplInfo(geom: Int32Array, pass: 'fwd' | 'bwd_data' | 'bwd_weights'): string;
  oneDnnVersion(): string;
}

export interface NativeAddonStatus {
  addon: NativeAddon | null;
  /** The file loaded, else null. */
  path: string | null;
  /** Why the addon is not loaded: 'not built', or the load errors. */
  reason: string | null;
}

/** The prebuilt platform package for this machine, e.g. '@doconv/linux-x64-gnu' (npm/README.md). */
export function platformPackageName(
  platform: string = process.platform,
  arch: string = process.arch,
): string {
  // musl Linux has no package: npm skips the -gnu one there (its "libc" field), so none is found.
  return `@doconv/${platform}-${arch}${platform === 'linux' ? '-gnu' : ''}`;
}

/**
 * Where the addon may be, in the order tried. A local build comes first: in a checkout it is the
 * code under test, and an npm user builds one only on purpose (`doconv build-native`, tuned to their
 * CPU) — npm replaces node_modules/doconv, build included, on every upgrade, so it is never stale.
 */
export function nativeAddonCandidates(): string[] {
  // src/engine/native/ and dist/engine/native/ are both three levels below the package root.
  const local = fileURLToPath(new URL('../../../native/build/doconv_native.node', import.meta.url));
  const found = [local];
  try {
    const pkg = platformPackageName();
    found.push(createRequire(import.meta.url).resolve(`${pkg}/doconv_native.node`));
  } catch {
    // not installed: another platform, --omit=optional, or a checkout
  }
  return found.filter((p) => existsSync(p));
}

let status: NativeAddonStatus | undefined;

export function nativeAddonStatus(): NativeAddonStatus {
  if (status !== undefined) return status;
  const errors: string[] = [];
  for (const path of nativeAddonCandidates()) {
    try {
      applyWaitPolicy(process.env); // before libgomp loads with the addon: it reads it once
      const addon = createRequire(import.meta.url)(path) as NativeAddon;
      addon.setThreads(nativeThreadsFor(1));
      return (status = { addon, path, reason: null });
    } catch (e) {
      errors.push(`cannot load ${path}: ${(e as Error).message}`);
    }
  }
  status = { addon: null, path: null, reason: errors.length > 0 ? errors.join('; ') : 'not built' };
  return status;
}

/**
 * OpenMP's waiting policy for the addon's thread team: passive (a thread that waits at a barrier
 * sleeps) unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT. libgomp's default spins ~300 000
 * times per wait; when another process wants a core, the spinning thread holds it while the team
 * mate it waits for is preempted, and a step costs 3–5× the CPU time and runs 3–15× slower
 * (docs/engine.md#busy, bench/waitPolicy.ts). libgomp reads the variables once, when it is loaded,
 * so this runs before the addon is required. A process.env write reaches the C environment from the
 * main thread only; the main thread loads the addon first (useBestBackend) before any worker does.
 */
export function applyWaitPolicy(env: NodeJS.ProcessEnv): void {
  if (env.OMP_WAIT_POLICY === undefined && env.GOMP_SPINCOUNT === undefined) {
    env.OMP_WAIT_POLICY = 'passive';
  }
}

/**
 * oneDNN (OpenMP) threads for each of `concurrent` training threads sharing this machine:
 * DOCONV_NATIVE_THREADS when set, else the cores split evenly among them (at least one). A lone
 * training thread gets every core — inside each op, as PyTorch does (docs/engine.md#threads).
 */
export function nativeThreadsFor(concurrent: number): number {
  const set = process.env.DOCONV_NATIVE_THREADS;
  if (set !== undefined && set !== '') {
    const n = Number(set);
    if (!Number.isInteger(n) || n < 1 || n > 1024) {
      throw new Error(
        `DOCONV_NATIVE_THREADS must be a whole number from 1 to 1024, got ${JSON.stringify(set)}`,
      );
    }
    return n;
  }
  return Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, concurrent)));
}

/** The addon, or null when it is not built or not loadable. */
export function nativeAddon(): NativeAddon | null {
  return nativeAddonStatus().addon;
}

/** The addon for a kernel that runs on it; throws naming the kernel when it is not loaded. */
export function requireNativeAddon(kernel: string): NativeAddon {
  const addon = nativeAddon();
  if (addon == null) throw new Error(`doconv native ${kernel}: the native addon is not loaded`);
  return addon;
}
