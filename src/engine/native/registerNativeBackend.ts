/**
 * Registers the doconv-native backend (NativeBackend.ts) with TF.js: tfjs-backend-cpu's whole kernel
 * table under the new name (every op works), then the native engine's kernels over it for the hot
 * ops (nativeKernels.ts; each hands what it cannot run back to the cpu kernel of its name).
 * Node-only; registers nothing when the addon is not built. Idempotent.
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { NATIVE_BACKEND, NativeBackend } from './NativeBackend.js';
import { defaultPoolBytes } from './bufferPool.js';
import { adamStepConfig, sgdStepConfig } from '../kernels/optimizerSteps.js';
import { nativeBackendKernelConfigs } from './nativeKernels.js';

/**
 * The kernels doconv-native has besides cpu's: the native ones, and the one-variable optimizer
 * updates (for variables the one-call native update leaves to them).
 */
const ownKernels: readonly tf.KernelConfig[] = [
  ...nativeBackendKernelConfigs,
  ...[adamStepConfig, sgdStepConfig].map((c) => ({ ...c, backendName: NATIVE_BACKEND })),
];

// Below cpu's 1 (and wasm's 2): TF.js never picks it on its own; useBestBackend sets it by name.
const PRIORITY = 0;

/** Registers the backend and its kernels (again, if cpu has gained kernels since). */
export function registerNativeBackend(): void {
  if (tf.findBackendFactory(NATIVE_BACKEND) == null) {
    tf.registerBackend(
      NATIVE_BACKEND,
      () => new NativeBackend(defaultPoolBytes(os.totalmem())),
      PRIORITY,
    );
  }
  const own = new Set(ownKernels.map((c) => c.kernelName));
  const registered = new Set(tf.getKernelsForBackend(NATIVE_BACKEND).map((c) => c.kernelName));
  for (const cpu of tf.getKernelsForBackend('cpu')) {
    if (own.has(cpu.kernelName) || registered.has(cpu.kernelName)) continue;
    tf.registerKernel({ ...cpu, backendName: NATIVE_BACKEND });
  }
  for (const config of ownKernels) {
    if (tf.getKernel(config.kernelName, NATIVE_BACKEND)?.kernelFunc === config.kernelFunc) continue;
    if (registered.has(config.kernelName)) tf.unregisterKernel(config.kernelName, NATIVE_BACKEND);
    tf.registerKernel(config);
  }
}
