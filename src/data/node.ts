/** Dataset file loading, as re-exported by `doconv/node`. */
export {
  type Split,
  type IdxFolderOptions,
  IDX_FILE_NAMES,
  findIdxFile,
  loadIdxFolder,
} from './idxFiles.js';
export { type MnistOptions, loadMnist, mnistDataDir } from './mnist.js';
export {
  type FashionMnistOptions,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DEBIAN_DIR,
  findFashionMnistDir,
  loadFashionMnist,
} from './fashionMnist.js';
export { type Cifar10Options, CIFAR10_FILE_NAMES, loadCifar10 } from './cifar10Files.js';
export {
  type DatasetName,
  type LoadDatasetOptions,
  DATASET_NAMES,
  loadDataset,
} from './loadDataset.js';
export { readBytes } from './readBytes.js';
export {
  type ImageFolderDataset,
  type ImageFolderOptions,
  type ImageFolderSplits,
  type SkippedImage,
  loadImageFolder,
  loadImageFolderSplits,
} from './imageFolder.js';
export { type DecodedImage, decodeImage, readImage } from './decodeImage.js';
