/**
 * Node-only: pick the fastest backend available for training. Lives outside the browser-safe root
 * because it imports optional Node packages by name.
 */
import * as tf from '@tensorflow/tfjs';
import {
  registerWasmTrainingKernels,
  stepAsideForWasmImport,
} from './registerWasmTrainingKernels.js';

export interface UseBestBackendOptions {
  /**
   * Where the chosen name is reported, e.g. `console.log`. Default: nowhere (importing and choosing a
   * backend print nothing unless asked; the name is also the return value).
   */
  log?: (message: string) => void;
  /** Backends to try, best first. Default ['tensorflow', 'wasm', 'cpu']. */
  candidates?: readonly BackendName[];
}

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

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

const loaders: Record<BackendName, () => Promise<boolean>> = {
  // tfjs-node registers the 'tensorflow' backend (libtensorflow, multi-threaded) when imported.
  tensorflow: async () => (await importOptional('@tensorflow/tfjs-node')) && trySet('tensorflow'),
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

/**
 * Selects the fastest available backend for training in Node — tfjs-node if the user installed it,
 * else wasm with doconv's training kernels, else cpu — and returns its name (and passes it to `log`).
 */
export async function useBestBackend(options: UseBestBackendOptions = {}): Promise<string> {
  const log = options.log ?? (() => {});
  const candidates = options.candidates ?? ['tensorflow', 'wasm', 'cpu'];
  for (const name of candidates) {
    if (!(name in loaders)) {
      throw new Error(
        `useBestBackend: unknown candidate ${JSON.stringify(name)}; expected one of ${JSON.stringify(Object.keys(loaders))}`,
      );
    }
    if (await loaders[name]()) {
      log(`doconv: using backend '${tf.getBackend()}'`);
      return tf.getBackend();
    }
  }
  throw new Error(`useBestBackend: none of ${JSON.stringify(candidates)} could be initialised`);
}
