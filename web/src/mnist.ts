/** The MNIST subset the build ships (see build/mnistSubset.ts), fetched and parsed with doconv's IDX parser. */
import { idxDataset, type Dataset } from '../../src/index.js';
import { MNIST_FILES } from './siteFiles.js';

export interface Mnist {
  train: Dataset;
  test: Dataset;
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

let cached: Promise<Mnist> | undefined;

/** Both splits (fetched once per page). */
export function loadMnist(): Promise<Mnist> {
  cached ??= (async () => {
    const f = MNIST_FILES;
    const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
      [f.trainImages, f.trainLabels, f.testImages, f.testLabels].map(fetchBytes),
    );
    const pair = (
      name: string,
      images: Uint8Array,
      imagesName: string,
      labels: Uint8Array,
      labelsName: string,
    ) => idxDataset({ name, images, imagesName, labels, labelsName, numClasses: 10 });
    return {
      train: pair('mnist/train', trainImages, f.trainImages, trainLabels, f.trainLabels),
      test: pair('mnist/test', testImages, f.testImages, testLabels, f.testLabels),
    };
  })();
  cached.catch(() => (cached = undefined)); // a failed fetch may be retried
  return cached;
}
