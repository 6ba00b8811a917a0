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
