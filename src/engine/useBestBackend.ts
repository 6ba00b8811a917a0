/**
 * Node-only: pick the fastest backend (and engine) available for training. Lives outside the
 * browser-safe root because it imports optional Node packages by name and the native addon.
 */
import * as tf from '@tensorflow/tfjs';
import { currentEngine, type EngineName, NATIVE_BACKEND } from './engineState.js';
import {
  disableNativeEngine,
  enableNativeBackendEngine,
  enableNativeEngine,
  NATIVE_ENGINE_HINT,
  type NativeEngineState,
} from './native/enableNative.js';
import { registerNativeBackend } from './native/registerNativeBackend.js';
import {
  registerWasmTrainingKernels,
  stepAsideForWasmImport,
} from './registerWasmTrainingKernels.js';

export { currentEngine, type EngineName };

export interface UseBestBackendOptions {
  /**
   * Where the choice (backend and engine) is reported, one line, e.g. `console.log`. Default:
   * nowhere (importing and choosing a backend print nothing unless asked; it is also the return value).
   */
  log?: (message: string) => void;
  /** Backends to try, best first. Default ['tensorflow', 'doconv-native', 'wasm', 'cpu']. */
  candidates?: readonly BackendName[];
  /**
   * 'auto' (default): the native engine (oneDNN) when its addon is built — the doconv-native
   * backend, and on wasm (when wasm is asked for by name) its kernels over wasm's heap. 'wasm'
   * skips doconv-native and forces the portable wasm kernels, as DOCONV_ENGINE=wasm does.
   */
  engine?: EngineChoice;
}

export type BackendName = 'tensorflow' | 'doconv-native' | 'wasm' | 'cpu';
export type EngineChoice = 'auto' | 'wasm';

export interface BackendSelection {
  backend: string;
  engine: EngineName;
  /** On doconv-native and wasm: the native engine's state, with the reason when it is off */
  native?: NativeEngineState;
}

// A variable specifier keeps TypeScript and bundlers from requiring these optional packages.
async function importOptional(specifier: string): Promise<boolean> {
  try {
    await import(specifier);
    return true;
  } catch {
    return false;
  }
}

async function trySet(name: BackendName): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

const loaders: Record<BackendName, (engine: EngineChoice) => Promise<boolean>> = {
  // tfjs-node registers the 'tensorflow' backend (libtensorflow, multi-threaded) when imported.
  tensorflow: async () => (await importOptional('@tensorflow/tfjs-node')) && trySet('tensorflow'),
  // Tensors in native memory, oneDNN kernels: where the addon is built and not disabled.
  'doconv-native': async (engine) => {
    if (engine === 'wasm' || !enableNativeBackendEngine().on) return false;
    registerNativeBackend();
    return trySet(NATIVE_BACKEND);
  },
  wasm: async () => {
    // Ours step aside while wasm's package registers its kernels, then replace them again.
    stepAsideForWasmImport();
    let imported: boolean;
    try {
      imported = await importOptional('@tensorflow/tfjs-backend-wasm');
    } finally {
      registerWasmTrainingKernels();
    }
    return imported && trySet('wasm');
  },
  cpu: () => trySet('cpu'),
};

/** The one line saying what runs, e.g. "doconv: using backend 'wasm', engine 'native' (oneDNN 2.6.3)". */
export function describeSelection(s: BackendSelection): string {
  const head = `doconv: using backend '${s.backend}', engine '${s.engine}'`;
  if (s.native == null) return head;
  if (s.native.on) {
    return `${head} (oneDNN ${s.native.oneDnn}, ${s.native.threads} thread(s) per training thread)`;
  }
  if (s.native.reason?.startsWith('disabled')) return `${head} (native engine ${s.native.reason})`;
  return `${head} — native engine off (${s.native.reason}); ${NATIVE_ENGINE_HINT}`;
}

/**
 * Selects the fastest available backend for training in Node — tfjs-node if the user installed
 * it, else doconv-native (the native engine, tensors in native memory) when its addon is built,
 * else wasm with doconv's kernels, else cpu — and returns which backend and engine run (and passes
 * the one line saying so to `log`). wasm asked for by name runs the native engine's kernels over
 * wasm's heap when the addon is built (engine 'auto').
 */
export async function useBestBackend(
  options: UseBestBackendOptions = {},
): Promise<BackendSelection> {
  const log = options.log ?? (() => {});
  const candidates = options.candidates ?? ['tensorflow', NATIVE_BACKEND, 'wasm', 'cpu'];
  const engine = options.engine ?? 'auto';
  if (engine !== 'auto' && engine !== 'wasm') {
    throw new Error(
      `useBestBackend: engine must be 'auto' or 'wasm', got ${JSON.stringify(engine)}`,
    );
  }
  for (const name of candidates) {
    if (!(name in loaders)) {
      throw new Error(
        `useBestBackend: unknown candidate ${JSON.stringify(name)}; expected one of ${JSON.stringify(Object.keys(loaders))}`,
      );
    }
    if (await loaders[name](engine)) {
      const backend = tf.getBackend();
      let native: NativeEngineState | undefined;
      if (backend === NATIVE_BACKEND) {
        native = enableNativeBackendEngine();
      } else if (backend === 'wasm') {
        if (engine === 'wasm') {
          disableNativeEngine();
          native = { on: false, reason: 'disabled by the engine option' };
        } else {
          native = enableNativeEngine();
        }
      }
      const selection: BackendSelection = { backend, engine: currentEngine(), native };
      log(describeSelection(selection));
      return selection;
    }
  }
  throw new Error(`useBestBackend: none of ${JSON.stringify(candidates)} could be initialised`);
}
