/**
 * `doconv import`: a PyTorch checkpoint of a zoo net (tools/train_ddp.py's, or the official PyTorch
 * sample's nn.Sequential state_dict), or of a model of your own described by a TF.js model.json,
 * into a doconv model folder that `eval`, `fold` and `export` take.
 * A segmentation or detection net (deeplab-mini, centernet-mini) gets the metadata the trainer
 * writes for such a net, so `eval` scores it on mnist-scenes and `fold --verify` checks it there. Node-only.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { type DatasetName, DATASET_NAMES, loadDataset } from '../data/loadDataset.js';
import { loadPytorchStateDict, type StateDictComposition } from '../interop/pytorchStateDict.js';
import { readSafetensors } from '../interop/safetensors.js';
import { deriveStateDictMap, type StateDictLayout } from '../interop/stateDictMap.js';
import { fileSystem } from '../io/fileSystemIO.js';
import { MNIST_SCENES_COUNTS, MNIST_SCENES_SEED } from '../data/mnistScenes.js';
import {
  buildModel,
  convKinds,
  type ConvKind,
  zooModelInfo,
  zooModelTask,
  type ZooModelName,
  type ZooTask,
} from '../models/index.js';
import { NORMALIZE_KINDS, normalizationFor, type NormalizeKind } from './data.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { detectOutputKind } from './losses.js';
import { setModelMetadata, type DoconvModelMetadata } from './modelMetadata.js';
import {
  defaultInfoPath,
  type PytorchCheckpointInfo,
  readCheckpointInfo,
} from './pytorchCheckpointInfo.js';
import { isModelFilePath, loadModelAs } from './modelFile.js';
import { SCENE_DATASETS, sceneMetadata } from './sceneTasks.js';
import { publishFolder } from '../io/atomicFiles.js';
import { readCheckedFile } from '../io/checkedRead.js';
import { checkOutputPath } from '../io/outputPaths.js';
import { OptionError } from '../util/optionError.js';

/** Options of {@link importPytorchCheckpoint}. */
export interface ImportCheckpointOptions {
  /** The .safetensors file. */
  checkpoint: string;
  /**
   * Zoo model name (default the JSON's `model`), or a saved TF.js model of your own (a model.json,
   * with or without weights, or its folder: a path with a slash or ending in .json) whose layers the
   * state_dict's modules are — by layer name, or in order for an nn.Sequential.
   */
  model?: ZooModelName | string;
  /**
   * 'conv' or 'doconv'; default the JSON's, else 'doconv' when a key ends in `.W` (DO-Conv's
   * weight). A model of your own is taken as saved unless this is given; given, it is converted
   * first (overparameterize / foldModel), as `trainModel` does with it.
   */
  conv?: ConvKind;
  /**
   * How the checkpoint's DO-Conv layers compose D and W (they differ for grouped convs only):
   * 'pytorch-official' (the official DOConv2d) or 'definition' (tools/doconv_torch). Default the
   * JSON's, else 'pytorch-official'.
   */
  composition?: StateDictComposition;
  /** Folder to write (model.json, weights.bin, import.json). Must not exist unless `overwrite`. */
  out: string;
  overwrite?: boolean;
  /** The checkpoint's JSON; default `<checkpoint without .safetensors>.json` when it exists; null: none. */
  info?: string | null;
  /** Evaluate on this data set's test split (and record it as the model's data set). Classifiers only. */
  dataset?: DatasetName;
  dataDir?: string;
  /** Evaluate on the first N test images; default the JSON's testImages when the data sets agree. */
  testLimit?: number;
  /** 'layer-names' (tools/train_ddp.py), 'sequential' (nn.Sequential indices) or 'auto' (default). */
  layout?: StateDictLayout | 'auto';
  /** Where warnings go (also returned). Default console.warn. */
  onWarning?: (message: string) => void;
}

/** What {@link importPytorchCheckpoint} did. */
export interface ImportCheckpointResult {
  checkpoint: string;
  info: string | null;
  out: string;
  model: string;
  /** The zoo net's task: a segmentation or detection net's folder is scored on mnist-scenes. */
  task: ZooTask;
  conv: ConvKind;
  layout: StateDictLayout;
  composition: StateDictComposition;
  /** PyTorch module prefix → TF.js layer name, as derived from the builder. */
  map: Record<string, string>;
  parameters: number;
  warnings: string[];
  /** The JSON's accuracy (PyTorch, on its test slice), when there is a JSON. */
  pytorch: { dataset: string; accuracy: number; count: number } | null;
  /** TF.js accuracy of the imported model, when a data set was given. */
  tfjs: ({ dataset: DatasetName } & Evaluation) | null;
}

/** An image folder has no fixed shape: its import needs the JSON's inputShape. */
const INPUT_SHAPES: Partial<Record<DatasetName, [number, number, number]>> = {
  mnist: [28, 28, 1],
  'fashion-mnist': [28, 28, 1],
  cifar10: [32, 32, 3],
};

/** mnist-scenes (the task nets' data set): 64×64×1; 10 digit classes, plus background for segmentation. */
const SCENE_INPUT_SHAPE: [number, number, number] = [64, 64, 1];
const SCENE_CLASSES = { segmentation: 11, detection: 10 } as const;
/** The trainer's default: detections kept per image when scoring. */
const SCENE_TOP_K = 20;

/**
 * Builds the zoo twin named by `model`, derives the state_dict mapping from its layer names
 * (deriveStateDictMap), loads the checkpoint with loadPytorchStateDict and writes the model to `out`
 * (model.json + weights.bin, with doconv's metadata; import.json records the provenance). The folder
 * appears complete or not at all. With `dataset`, evaluates the imported model next to the JSON's
 * PyTorch accuracy. The caller picks the backend.
 */
export async function importPytorchCheckpoint(
  opts: ImportCheckpointOptions,
): Promise<ImportCheckpointResult> {
  const { checkpoint, out } = opts;
  await checkImportOptions(opts);
  const infoPath = opts.info === undefined ? await defaultInfoPath(checkpoint) : opts.info;
  const info = infoPath === null ? {} : await readCheckpointInfo(infoPath);
  // A regular file within the decode cap (a FIFO or /dev/zero would block or never end).
  const bytes = await readCheckedFile(checkpoint, 'checkpoint');
  const tensors = readSafetensors(bytes, checkpoint);
  let model: tf.LayersModel | undefined;
  try {
    let twin: Twin;
    if (isModelFilePath(opts.model)) {
      const conv = pick('conv', opts.conv, info.conv, infoPath);
      model = await loadModelAs(opts.model, conv);
      twin = ownTwin(opts.model, model, conv, opts, info, infoPath);
    } else {
      twin = whichTwin(opts, info, infoPath, Object.keys(tensors));
      model = buildModel(twin.model, {
        conv: twin.conv,
        inputShape: twin.inputShape as [number, number, number],
        numClasses: twin.numClasses,
        seed: 1,
      });
    }
    const loaded = loadInto(model, tensors, opts, info, twin);
    const tfjs = await evaluateImported(model, opts, info, twin);
    setModelMetadata(model, importedMetadata(model, twin));
    const result: ImportCheckpointResult = {
      checkpoint,
      info: infoPath,
      out,
      model: twin.model,
      task: twin.task,
      conv: twin.conv,
      layout: loaded.layout,
      composition: loaded.composition,
      map: loaded.map,
      parameters: model.countParams(),
      warnings: loaded.warnings,
      pytorch:
        typeof info.testAccuracy === 'number'
          ? {
              dataset: String(info.dataset),
              accuracy: info.testAccuracy,
              count: Number(info.testImages),
            }
          : null,
      tfjs,
    };
    await writeFolder(out, model, { ...result, pytorchInfo: info });
    return result;
  } finally {
    model?.dispose();
    tf.dispose(Object.values(tensors));
  }
}

/** The options checked before any file is read. */
async function checkImportOptions(opts: ImportCheckpointOptions): Promise<void> {
  const { out } = opts;
  if (
    opts.composition !== undefined &&
    !['definition', 'pytorch-official'].includes(opts.composition)
  ) {
    throw new Error(
      `importPytorchCheckpoint: composition must be 'definition' or 'pytorch-official', got ${JSON.stringify(opts.composition)}`,
    );
  }
  if (typeof out !== 'string' || out === '') {
    throw new Error(
      `importPytorchCheckpoint: out must be a folder path, got ${JSON.stringify(out)}`,
    );
  }
  if (opts.dataset !== undefined && !DATASET_NAMES.includes(opts.dataset)) {
    throw new Error(
      `importPytorchCheckpoint: unknown dataset ${JSON.stringify(opts.dataset)}; known: ${DATASET_NAMES.join(', ')}`,
    );
  }
  // Import replaces `out` whole: it must not be, be inside or hold the checkpoint it reads.
  await checkOutputPath('out', out, [
    { what: 'checkpoint', path: opts.checkpoint },
    ...(isModelFilePath(opts.model) ? [{ what: 'model', path: opts.model }] : []),
  ]);
  if (!opts.overwrite && (await exists(out))) {
    throw new OptionError(
      ['out', 'overwrite'],
      (n) =>
        `${out} already exists; choose a new ${n('out')} folder (or ${n('overwrite', 'true')})`,
    );
  }
}

/** The zoo twin a checkpoint is imported as, and what it was trained on. */
interface Twin {
  model: string;
  conv: ConvKind;
  task: ZooTask;
  /** A data set of DATASET_NAMES, or mnist-scenes for a scene net. */
  dataset: string;
  normalize: string;
  /** A zoo twin's [height, width, channels]; a model of your own's input shape, whatever its rank. */
  inputShape: number[];
  numClasses: number;
}

/**
 * The twin of a checkpoint of your own model (a classifier): what its model.json says, with the
 * data set and normalisation from the options or the JSON. conv: as given, else what it holds.
 */
function ownTwin(
  file: string,
  model: tf.LayersModel,
  conv: ConvKind | undefined,
  opts: ImportCheckpointOptions,
  info: PytorchCheckpointInfo,
  infoPath: string | null,
): Twin {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(
      `model ${file} has ${model.inputs.length} input(s) and ${model.outputs.length} output(s); import takes a classifier with one of each`,
    );
  }
  if (conv !== undefined && !convKinds.includes(conv)) {
    throw new Error(`conv must be ${convKinds.join(' or ')}, got ${JSON.stringify(conv)}`);
  }
  const dataset = opts.dataset ?? info.dataset ?? 'mnist';
  if (!(DATASET_NAMES as readonly string[]).includes(dataset)) {
    throw new Error(
      `${infoPath}: dataset ${JSON.stringify(dataset)} is not one of ${DATASET_NAMES.join(', ')}`,
    );
  }
  const normalize = info.normalize ?? 'none';
  if (!NORMALIZE_KINDS.includes(normalize)) {
    throw new Error(
      `${infoPath}: normalize ${JSON.stringify(normalize)} is not one of ${NORMALIZE_KINDS.join(', ')}`,
    );
  }
  const holdsDO = model.layers.some((l) => /^DO[A-Z]/.test(l.getClassName()));
  const output = model.outputs[0].shape;
  return {
    model: file,
    conv: conv ?? (holdsDO ? 'doconv' : 'conv'),
    task: 'classification',
    dataset,
    normalize,
    inputShape: model.inputs[0].shape.slice(1) as number[],
    numClasses: output[output.length - 1] as number,
  };
}

/** The twin from the options and the checkpoint's JSON (the options win; a contradiction fails). */
function whichTwin(
  opts: ImportCheckpointOptions,
  info: PytorchCheckpointInfo,
  infoPath: string | null,
  keys: string[],
): Twin {
  const model = pick('model', opts.model, info.model, infoPath);
  if (model === undefined) {
    throw new OptionError(
      'model',
      (n) =>
        `${opts.checkpoint}: which zoo model is it? Give ${n('model')} (no JSON names one${infoPath ? ` in ${infoPath}` : ''})`,
    );
  }
  zooModelInfo(model); // throws naming the unknown model and listing the known ones
  const conv =
    pick('conv', opts.conv, info.conv, infoPath) ??
    (keys.some((k) => k.endsWith('.W')) ? 'doconv' : 'conv');
  if (!convKinds.includes(conv)) {
    throw new Error(`conv must be ${convKinds.join(' or ')}, got ${JSON.stringify(conv)}`);
  }
  const task = zooModelTask(model);
  const scenes = task !== 'classification';
  if (scenes && opts.dataset !== undefined) {
    const given = JSON.stringify(opts.dataset);
    throw new OptionError(
      'dataset',
      (n) =>
        `${n('dataset')} ${given}: ${model} is a ${task} net, scored on mnist-scenes, not on a classification data set (import it without ${n('dataset')}, then evaluate the folder)`,
    );
  }
  const known: readonly string[] = scenes ? SCENE_DATASETS : DATASET_NAMES;
  if (info.dataset !== undefined && !known.includes(info.dataset)) {
    throw new Error(
      `${infoPath}: dataset ${JSON.stringify(info.dataset)} is not one of ${known.join(', ')}${scenes ? ` (${model} is a ${task} net)` : ''}`,
    );
  }
  const dataset = opts.dataset ?? info.dataset ?? (scenes ? 'mnist-scenes' : 'mnist');
  const normalize = info.normalize ?? 'none';
  const normalizeKinds: readonly string[] = scenes ? ['none'] : NORMALIZE_KINDS;
  if (!normalizeKinds.includes(normalize)) {
    throw new Error(
      `${infoPath}: normalize ${JSON.stringify(normalize)} is not one of ${normalizeKinds.join(', ')}${scenes ? ` (${model} reads scenes as pixels/255)` : ''}`,
    );
  }
  const inputShape =
    info.inputShape ?? (scenes ? SCENE_INPUT_SHAPE : INPUT_SHAPES[dataset as DatasetName]);
  if (inputShape === undefined) {
    throw new Error(
      `dataset ${JSON.stringify(dataset)} has no fixed input shape: give inputShape in ${infoPath ?? 'the checkpoint JSON'}`,
    );
  }
  const numClasses = info.numClasses ?? (scenes ? SCENE_CLASSES[task] : 10);
  return { model, conv, task, dataset, normalize, inputShape, numClasses };
}

/** Loads the checkpoint's tensors into `model` by the mapping derived from its layer names. */
function loadInto(
  model: tf.LayersModel,
  tensors: Record<string, tf.Tensor>,
  opts: ImportCheckpointOptions,
  info: PytorchCheckpointInfo,
  twin: Twin,
): Pick<ImportCheckpointResult, 'layout' | 'composition' | 'map' | 'warnings'> {
  const { layout, map } = deriveStateDictMap(model, Object.keys(tensors), opts.layout);
  // Without a JSON: a state_dict users already have, i.e. the official module's.
  const composition =
    pick('composition', opts.composition, info.composition, 'the checkpoint JSON') ??
    'pytorch-official';
  try {
    const report = loadPytorchStateDict(model, tensors, {
      map,
      composition,
      onWarning: opts.onWarning,
    });
    return { layout, composition, map, warnings: report.warnings };
  } catch (e) {
    // Say which file and which twin the listed keys were checked against.
    (e as Error).message =
      `${opts.checkpoint} as ${twin.model} (${twin.conv}, ${layout} layout): ${(e as Error).message}`;
    throw e;
  }
}

/** The imported classifier's accuracy on `dataset`'s test split (null without a data set). */
async function evaluateImported(
  model: tf.LayersModel,
  opts: ImportCheckpointOptions,
  info: PytorchCheckpointInfo,
  twin: Twin,
): Promise<ImportCheckpointResult['tfjs']> {
  if (opts.dataset === undefined) return null;
  // The JSON's accuracy is on its first testImages images: evaluate the same slice unless told otherwise.
  const limit = opts.testLimit ?? (info.dataset === twin.dataset ? info.testImages : undefined);
  const test = await loadDataset(opts.dataset, { split: 'test', dir: opts.dataDir, limit });
  const images = [test.height, test.width, test.channels];
  if (JSON.stringify(images) !== JSON.stringify(twin.inputShape)) {
    throw new Error(
      `model ${twin.model} takes inputs of shape ${JSON.stringify(twin.inputShape)}, ${opts.dataset}'s test images are ${JSON.stringify(images)}`,
    );
  }
  const normalize = normalizationFor(twin.normalize as NormalizeKind, opts.dataset);
  return { dataset: opts.dataset, ...evaluate(model, test, { normalize }) };
}

/** What the trainer records for a model of this task, so `eval` and `fold --verify` know it. */
function importedMetadata(model: tf.LayersModel, twin: Twin): DoconvModelMetadata {
  if (twin.task === 'classification') {
    return {
      model: twin.model,
      conv: twin.conv,
      dataset: twin.dataset,
      normalize: twin.normalize,
      outputKind: detectOutputKind(model),
      folded: false,
    };
  }
  // A scene net: scored on the default mnist-scenes test set, as a run with default settings.
  const config = {
    model: twin.model,
    task: twin.task,
    conv: twin.conv,
    dataset: twin.dataset,
    sceneSeed: MNIST_SCENES_SEED,
    testLimit: MNIST_SCENES_COUNTS.test,
    topK: SCENE_TOP_K,
  };
  return sceneMetadata(config, false);
}

/** The flag, else the JSON's value; both given and different is an error naming both. */
function pick<T>(
  key: string,
  flag: T | undefined,
  fromInfo: T | undefined,
  infoPath: string | null,
) {
  if (flag !== undefined && fromInfo !== undefined && flag !== fromInfo) {
    throw new OptionError(
      key,
      (n) =>
        `${n(key)} ${JSON.stringify(flag)} contradicts ${infoPath}, which says ${key} ${JSON.stringify(fromInfo)}`,
    );
  }
  return flag ?? fromInfo;
}

/**
 * model.json + weights.bin + import.json into a temp folder beside `out`, then renamed into place
 * (io/atomicFiles.ts publishFolder, which also clears what a killed earlier import left).
 */
async function writeFolder(out: string, model: tf.LayersModel, record: object): Promise<void> {
  try {
    await publishFolder(out, async (temp) => {
      await model.save(fileSystem(temp));
      await fs.writeFile(path.join(temp, 'import.json'), JSON.stringify(record, null, 1) + '\n');
    });
  } catch (e) {
    throw new Error(`writing ${out} failed, nothing was written: ${(e as Error).message}`);
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
