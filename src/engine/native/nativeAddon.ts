/**
 * The native engine's addon (native/build/doconv_native.node, built by `npm run build:native`),
 * loaded once, lazily, and only in Node. Absent or unloadable → null, and doconv runs on wasm.
 */
import { createRequire } from 'node:module';
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
      const addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
      // One oneDNN thread per calling thread: cores come from the worker trainer (README, engine).
      addon.setThreads(Number(process.env.DOCONV_NATIVE_THREADS ?? 1));
      status = { addon, reason: null };
    } catch (e) {
      status = { addon: null, reason: `cannot load ${addonPath}: ${(e as Error).message}` };
    }
  }
  return status;
}

/** The addon, or null when it is not built or not loadable. */
export function nativeAddon(): NativeAddon | null {
  return nativeAddonStatus().addon;
}
