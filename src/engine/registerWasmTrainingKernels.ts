/**
 * The kernels doconv adds to (or replaces on) the wasm backend so CNNs can train there, and the
 * gradients it replaces while wasm is the active backend. Lists, like tfjs-backend-*'s
 * register_all_kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { dilatedConv2DGrad, dilatedDepthwiseConv2dGrad } from './gradients/dilatedConvGrad.js';
import { fusedBatchNormGrad } from './gradients/fusedBatchNormGrad.js';
import type { GradientReplacement } from './gradients/gradientReplacement.js';
import { meanGrad } from './gradients/meanGrad.js';
import { reluGrad } from './gradients/reluGrad.js';
import { clipByValueGrad, relu6Grad } from './gradients/clipGrad.js';
import { addConfig } from './kernels/Add.js';
import { batchMatMulConfig } from './kernels/BatchMatMul.js';
import { castConfig } from './kernels/Cast.js';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/DepthwiseConv2dNativeBackpropInput.js';
import { fusedBatchNormConfig } from './kernels/FusedBatchNorm.js';
import { guardedStockKernels } from './kernels/guardedStockKernels.js';
import { identityConfig } from './kernels/Identity.js';
import { meanConfig } from './kernels/Mean.js';
import { multiplyConfig } from './kernels/Multiply.js';
import { adamStepConfig, sgdStepConfig } from './kernels/optimizerSteps.js';
import { subConfig } from './kernels/Sub.js';
import { sumConfig } from './kernels/Sum.js';
import { tileConfig } from './kernels/Tile.js';
import { setNativeFallback } from './native/fallbacks.js';
import { wasmNativeKernels } from './engineState.js';
import { guardKernel } from './kernelGuard.js';
import { rememberStockKernel, stockKernelConfig } from './stockKernels.js';

/** Every kernel doconv registers on wasm, each behind the guard (./kernelGuard.ts). */
export const wasmTrainingKernelConfigs: readonly tf.KernelConfig[] = [
  // wasm's forward convs and fused product as they are, behind the guard.
  ...guardedStockKernels,
  conv2DBackpropFilterConfig,
  // Replaces wasm's own (a scalar loop); also changes tf.conv2dTranspose on wasm.
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  // Replaces wasm's own (scalar div/mod loop); BatchNorm's gradient tiles per-channel vectors.
  tileConfig,
  // The rest replace wasm's own for the cases training CNNs hits and hand every other case back
  // to it (./stockKernels.ts): no copies for Identity / same-dtype Cast; reductions over leading
  // axes and per-channel element-wise ops as XNNPACK pools and 1×1 depthwise convs; transposed
  // matrix products (dense gradients) as plain ones.
  identityConfig,
  castConfig,
  sumConfig,
  meanConfig,
  fusedBatchNormConfig,
  multiplyConfig,
  addConfig,
  subConfig,
  batchMatMulConfig,
  // doconv's own: one kernel per variable for its optimizers' updates (src/train/optimizers.ts).
  adamStepConfig,
  sgdStepConfig,
].map(guardKernel);

/** Gradients replaced while wasm is the active backend (on any other, tfjs-core's original runs). */
export const wasmTrainingGradients: readonly GradientReplacement[] = [
  meanGrad,
  fusedBatchNormGrad,
  // One pass where the native engine has the kernel (tfjs-core's elsewhere).
  reluGrad,
  clipByValueGrad,
  relu6Grad,
  // Dilated convs: tfjs-core's gradients refuse them; doconv's and the native backprops take dilations.
  dilatedConv2DGrad,
  dilatedDepthwiseConv2dGrad,
];

const ourKernelFuncs = new Set(wasmTrainingKernelConfigs.map((c) => c.kernelFunc));
const wasmConfigByName = new Map(wasmTrainingKernelConfigs.map((c) => [c.kernelName, c]));

/**
 * The config registered for each kernel name: the native engine's where its kernel set is on
 * (engineState.ts), else doconv's wasm one. The wasm choice (doconv's replacement, else wasm's
 * stock kernel) is then the native kernel's fallback for calls it cannot run.
 */
function chosenConfigs(): tf.KernelConfig[] {
  const native = wasmNativeKernels();
  const nativeByName = new Map(native.map((c) => [c.kernelName, c]));
  return [
    ...wasmTrainingKernelConfigs.map((c) => nativeByName.get(c.kernelName) ?? c),
    ...native.filter((c) => !wasmConfigByName.has(c.kernelName)),
  ];
}

/** Native kernels registered on wasm that the current kernel set does not choose go back to wasm's. */
function unregisterLeftovers(chosen: readonly tf.KernelConfig[]): void {
  const chosenNames = new Set(chosen.map((c) => c.kernelName));
  for (const c of tf.getKernelsForBackend('wasm')) {
    if (chosenNames.has(c.kernelName) || !ourKernelFuncs.has(c.kernelFunc)) continue;
    tf.unregisterKernel(c.kernelName, 'wasm');
    const stock = stockKernelConfig(c.kernelName);
    if (stock != null) tf.registerKernel(stock);
  }
}

const ourGradients = new Set<tf.GradConfig>();

/**
 * A kernel no backend defines, registered only for its setupFunc: tfjs calls every wasm kernel's
 * setupFunc each time the wasm backend is set. If '@tensorflow/tfjs-backend-wasm' was imported
 * after doconv, its register_all_kernels has overwritten our Conv2DBackpropInput; this puts ours back
 * before the first op runs (same for the other replaced kernels).
 */
const GUARD_KERNEL = 'DoconvWasmTrainingKernelsGuard';
const guardConfig: tf.KernelConfig = {
  kernelName: GUARD_KERNEL,
  backendName: 'wasm',
  kernelFunc: () => {
    throw new Error(`doconv: '${GUARD_KERNEL}' is a registration hook, not an op`);
  },
  setupFunc: () => registerWasmTrainingKernels(),
};

/** True when every doconv wasm training kernel and gradient is the one registered now. */
export function wasmTrainingKernelsRegistered(): boolean {
  return (
    chosenConfigs().every((c) => tf.getKernel(c.kernelName, 'wasm')?.kernelFunc === c.kernelFunc) &&
    wasmTrainingGradients.every((g) => ourGradients.has(tf.getGradient(g.kernelName)))
  );
}

function registerGradients(): void {
  for (const g of wasmTrainingGradients) {
    const current = tf.getGradient(g.kernelName);
    // tfjs-core registers its gradients on import; without one there is nothing to delegate to.
    if (current == null || ourGradients.has(current)) continue;
    const ours = g.replace(current);
    ourGradients.add(ours);
    tf.registerGradient(ours);
  }
}

/**
 * Registers doconv's training kernels on the wasm backend, and its wasm gradients. Idempotent and
 * cheap: kernels already ours are left alone, others (wasm's stock Conv2DBackpropInput, Sum, ...)
 * are remembered as fallbacks and replaced without a warning. Works before or after the wasm
 * backend is imported or initialised: the kernels look up wasm's own kernels only when they run.
 */
export function registerWasmTrainingKernels(): void {
  const chosen = chosenConfigs();
  for (const c of wasmNativeKernels()) ourKernelFuncs.add(c.kernelFunc);
  unregisterLeftovers(chosen);
  for (const config of [...chosen, guardConfig]) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc !== config.kernelFunc) {
      if (current != null) {
        if (!ourKernelFuncs.has(current.kernelFunc)) rememberStockKernel(current);
        tf.unregisterKernel(config.kernelName, 'wasm');
      }
      tf.registerKernel(config);
    }
  }
  for (const config of wasmNativeKernels()) {
    const wasmChoice =
      wasmConfigByName.get(config.kernelName) ?? stockKernelConfig(config.kernelName);
    if (wasmChoice != null) setNativeFallback(wasmChoice);
  }
  registerGradients();
}

/**
 * What importing doconv does. If '@tensorflow/tfjs-backend-wasm' is already imported, registers
 * everything now. If not, registers only the guard (and the gradients): the kernels follow when the
 * wasm backend is first set (the guard's setupFunc). Registering them now would make the wasm
 * package's register_all_kernels, imported later, print "The kernel '…' for backend 'wasm' is
 * already registered" once per kernel doconv replaces — import order must not make noise.
 */
export function registerWasmTrainingKernelsOnImport(): void {
  if (tf.findBackendFactory('wasm') != null) {
    registerWasmTrainingKernels();
    return;
  }
  if (tf.getKernel(GUARD_KERNEL, 'wasm')?.setupFunc !== guardConfig.setupFunc) {
    if (tf.getKernel(GUARD_KERNEL, 'wasm') != null) tf.unregisterKernel(GUARD_KERNEL, 'wasm');
    tf.registerKernel(guardConfig);
  }
  registerGradients();
}

/**
 * Takes doconv's kernels off the wasm backend where they replaced one of wasm's (the stock kernel
 * they fell back to is kept), so that importing '@tensorflow/tfjs-backend-wasm' next registers its
 * own without tfjs warning "already registered" once per kernel. Call registerWasmTrainingKernels
 * right after: until then those ops run wasm's stock kernels, or none.
 */
export function stepAsideForWasmImport(): void {
  for (const config of chosenConfigs()) {
    if (tf.getKernel(config.kernelName, 'wasm')?.kernelFunc === config.kernelFunc) {
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
  }
}
