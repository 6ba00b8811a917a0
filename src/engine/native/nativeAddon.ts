/**
 * The native engine's addon (native/build/doconv_native.node, built by `npm run build:native`),
 * loaded once, lazily, and only in Node. Absent or unloadable → null, and doconv runs on wasm.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The addon's functions (native/src/addon.cc). Offsets are bytes into `heap`. */
export interface NativeAddon {
  convForward(
    heap: ArrayBufferLike,
    geom: Int32Array,
    x: number,
    filter: number,
    bias: number,
    y: number,
    alpha: number,
  ): void;
  convBackwardData(
    heap: ArrayBufferLike,
    geom: Int32Array,
    dy: number,
    filter: number,
    dx: number,
  ): void;
  convBackwardWeights(
    heap: ArrayBufferLike,
    geom: Int32Array,
    x: number,
    dy: number,
    dw: number,
  ): void;
  /** geom: [batch, aBatch, bBatch, m, k, n, transposeA, transposeB] (native/src/matmul.h) */
  matMul(heap: ArrayBufferLike, geom: Int32Array, a: number, b: number, y: number): void;
  /** geom: [op, rows, channels, aMode, bMode] (native/src/eltwise.h); y = a op b, broadcast per mode */
  binary(heap: ArrayBufferLike, geom: Int32Array, a: number, b: number, y: number): void;
  /** geom: [op, size]; alpha is Step's value for x ≤ 0 */
  unary(heap: ArrayBufferLike, geom: Int32Array, x: number, y: number, alpha: number): void;
  /** geom: [rows, inner]; y[j] = scale · Σ_r x[r, j] */
  reduceRows(heap: ArrayBufferLike, geom: Int32Array, x: number, y: number, scale: number): void;
  /** geom: [block, repeats]; y = x repeated */
  tile(heap: ArrayBufferLike, geom: Int32Array, x: number, y: number): void;
  /** geom: [rows, channels, hasScale, hasOffset]; scale/offset -1 when absent */
  batchNorm(
    heap: ArrayBufferLike,
    geom: Int32Array,
    x: number,
    mean: number,
    variance: number,
    scale: number,
    offset: number,
    y: number,
    epsilon: number,
  ): void;
  /** geom: [outer, inner_0 …]; parts: byte offsets of the parts; y = rows of the parts' blocks */
  concat(heap: ArrayBufferLike, geom: Int32Array, parts: Float64Array, y: number): void;
  split(heap: ArrayBufferLike, geom: Int32Array, x: number, parts: Float64Array): void;
  /** geom: [size]; dx = dy · step(x) */
  reluGrad(heap: ArrayBufferLike, geom: Int32Array, dy: number, x: number, dx: number): void;
  /** geom: [rows, channels]; sumDy = Σ dy, sumDyXc = Σ dy·(x − mean), per channel */
  batchNormGradSums(
    heap: ArrayBufferLike,
    geom: Int32Array,
    dy: number,
    x: number,
    mean: number,
    sumDy: number,
    sumDyXc: number,
  ): void;
  /** geom: [area, dMul, channels, filters] (native/src/compose.h) */
  compose(
    heap: ArrayBufferLike,
    geom: Int32Array,
    d: number,
    dDiag: number,
    w: number,
    k: number,
  ): void;
  composeGrad(
    heap: ArrayBufferLike,
    geom: Int32Array,
    dk: number,
    d: number,
    dDiag: number,
    w: number,
    dD: number,
    dW: number,
  ): void;
  /**
   * Every variable's optimizer update in place (native/src/optimizer.h): kind 0 Adam, 1 SGD,
   * 2 SGD with momentum; sizes per variable, byte offsets of its operands, the kind's params.
   */
  optimizerStep(
    heap: ArrayBufferLike,
    kind: number,
    sizes: Float64Array,
    offsets: Float64Array,
    params: Float64Array,
  ): void;
  /** oneDNN threads for ops run from the calling thread (OpenMP's per-thread setting). */
  setThreads(n: number): void;
  getThreads(): number;
  /** Bytes and buffers the addon holds (all threads); cached primitives of the calling thread. */
  stats(): { liveBytes: number; liveBuffers: number; cacheEntries: number };
  clearCache(): void;
  convImplInfo(geom: Int32Array, pass: 'fwd' | 'bwd_data' | 'bwd_weights'): string;
  oneDnnVersion(): string;
}

export interface NativeAddonStatus {
  addon: NativeAddon | null;
  /** Why the addon is not loaded: 'not built', or the load error. */
  reason: string | null;
}

// src/engine/native/ and dist/engine/native/ are both three levels below the package root.
const addonPath = fileURLToPath(
  new URL('../../../native/build/doconv_native.node', import.meta.url),
);

let status: NativeAddonStatus | undefined;

export function nativeAddonStatus(): NativeAddonStatus {
  if (status !== undefined) return status;
  if (!existsSync(addonPath)) {
    status = { addon: null, reason: 'not built' };
  } else {
    try {
      applyWaitPolicy(process.env); // before libgomp loads with the addon: it reads it once
      const addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
      addon.setThreads(nativeThreadsFor(1));
      status = { addon, reason: null };
    } catch (e) {
      status = { addon: null, reason: `cannot load ${addonPath}: ${(e as Error).message}` };
    }
  }
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
