/**
 * A quick training-throughput measurement: the trainer's own epoch loop (batch preparation, forward,
 * backward, update) on random bytes, so the number is what `train` would show for that model.
 * For the full benchmark (several nets, wasm vs cpu vs PyTorch) see bench/train.ts.
 */
import { buildModel, type ConvKind, type ZooModelName } from '../models/index.js';
import { createRng } from '../data/prng.js';
import { checkOptionAllocation } from '../util/sizeLimit.js';
import type { Dataset } from '../data/dataset.js';
import type { EngineName } from '../engine/useBestBackend.js';
import { selectBackend, type BackendChoice } from './environment.js';
import { startWorkers, trainEpoch } from './loop.js';
import { detectOutputKind } from './losses.js';
import { createOptimizer } from './optimizers.js';

/** Options of `measureTrainingSpeed`. */
export interface SpeedOptions {
  /** Zoo model name. Default 'tf-mnist-sample'. */
  model?: ZooModelName;
  conv?: ConvKind;
  /** [height, width, channels]. Default [28, 28, 1]. */
  inputShape?: [number, number, number];
  numClasses?: number;
  batchSize?: number;
  /** Timed steps. Default 20. */
  steps?: number;
  /** Untimed steps first (JIT, kernel setup, optimizer slots). Default 10. */
  warmupSteps?: number;
  backend?: BackendChoice;
  /** Where the backend choice (backend, engine) is reported, one line; default silent. */
  log?: (message: string) => void;
  /** Worker threads (see TrainOptions.workers). Default 1. */
  workers?: number;
  /** Start `workers` past the machine's cores or free memory (see TrainOptions.oversubscribe). */
  oversubscribe?: boolean;
}

/** What `measureTrainingSpeed` reports. */
export interface SpeedResult {
  model: string;
  conv: ConvKind;
  backend: string;
  /** What ran the ops: 'native' (oneDNN kernels over wasm), 'wasm', 'tensorflow', 'cpu' */
  engine: EngineName;
  workers: number;
  batchSize: number;
  steps: number;
  imagesPerSecond: number;
  secondsPerStep: number;
}

/** Trains `steps` batches of random images with SGD and reports images/s. */
export async function measureTrainingSpeed(opts: SpeedOptions = {}): Promise<SpeedResult> {
  const modelName = opts.model ?? 'tf-mnist-sample';
  const conv = opts.conv ?? 'doconv';
  const [h, w, c] = opts.inputShape ?? [28, 28, 1];
  const numClasses = opts.numClasses ?? 10;
  const batchSize = opts.batchSize ?? 32;
  const steps = opts.steps ?? 20;
  const warmup = opts.warmupSteps ?? 10;
  for (const [key, v] of [
    ['batchSize', batchSize],
    ['steps', steps],
  ] as const) {
    if (!(Number.isInteger(v) && v > 0))
      throw new Error(`${key} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (!(Number.isInteger(warmup) && warmup >= 0)) {
    throw new Error(`warmupSteps must be a non-negative integer, got ${JSON.stringify(warmup)}`);
  }
  // The random images of the timed steps are made up front (`bench --steps 1000000000000` ended
  // in "Invalid typed array length: 25088000000000000").
  checkOptionAllocation(
    ['steps', 'batchSize'],
    Math.max(steps, warmup) * batchSize * h * w * c,
    (n) =>
      `${n('steps', String(Math.max(steps, warmup)))} × ${n('batchSize', String(batchSize))} random images of ${h}×${w}×${c} bytes`,
  );
  const { backend, engine } = await selectBackend(opts.backend, opts.log);
  const model = buildModel(modelName, { conv, inputShape: [h, w, c], numClasses, seed: 1 });
  const optimizer = createOptimizer({ kind: 'sgd', learningRate: 0.01, momentum: 0.9 });
  let parallel: Awaited<ReturnType<typeof startWorkers>>;
  try {
    const config = {
      epochs: 1,
      batchSize,
      evalBatchSize: batchSize,
      seed: 1,
      learningRate: 0.01,
      schedule: { kind: 'constant' } as const,
      scheduleUnit: 'epoch' as const,
      weightDecay: 0,
      decayD: true,
      augment: false,
      outputKind: detectOutputKind(model),
      workers: opts.workers ?? 1,
    };
    parallel = await startWorkers(model, optimizer, config, [], opts.oversubscribe);
    const epochOf = (n: number) =>
      trainEpoch(model, optimizer, randomDataset(n * batchSize, h, w, c, numClasses), 0, config, {
        parallel,
      });
    if (warmup > 0) await epochOf(warmup);
    const timed = await epochOf(steps);
    return {
      model: modelName,
      conv,
      backend,
      engine,
      workers: config.workers,
      batchSize,
      steps,
      imagesPerSecond: timed.imagesPerSecond,
      secondsPerStep: timed.seconds / steps,
    };
  } finally {
    await parallel?.dispose();
    optimizer.dispose();
    model.dispose();
  }
}

function randomDataset(
  count: number,
  height: number,
  width: number,
  channels: number,
  numClasses: number,
): Dataset {
  const rng = createRng(12345);
  const images = new Uint8Array(count * height * width * channels);
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(rng() * 256);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = Math.floor(rng() * numClasses);
  return { name: 'random', images, labels, count, height, width, channels, numClasses };
}
