/**
 * Models of your own for the trainer: a saved TF.js Layers model as a ModelBuilder (`doconv train
 * --model path/model.json`), and starting weights from a saved model (`--init`).
 */
import * as tf from '@tensorflow/tfjs';
import { foldModel } from '../fold/foldModel.js';
import { overparameterize } from '../fold/overparameterize.js';
import { fileSystem } from '../io/fileSystemIO.js';
import { loadModel } from '../io/loadModel.js';
import { buildModel, type ConvKind, isZooModelName } from '../models/index.js';
import { shortWeightName } from '../layers/weightNames.js';
import type { NamedPath } from '../io/outputPaths.js';
import type { ModelBuilder } from './config.js';

/** Where a builder made here reads its model from: a run's output must not be there. */
const SOURCES = Symbol('doconv.modelSources');

/** The files a model (a builder from loadModelBuilder or withInitialWeights) is read from. */
export function modelSources(model: unknown): NamedPath[] {
  return typeof model === 'function' ? ((model as { [SOURCES]?: NamedPath[] })[SOURCES] ?? []) : [];
}

function withSources(builder: ModelBuilder, sources: NamedPath[]): ModelBuilder {
  Object.defineProperty(builder, SOURCES, { value: sources });
  return builder;
}

/**
 * Whether a `model` option names a saved model (a path: it has a slash or ends in .json) rather
 * than a zoo net.
 */
export function isModelFilePath(model: string | undefined): model is string {
  return (
    typeof model === 'string' &&
    !isZooModelName(model) &&
    (model.endsWith('.json') || /[\\/]/.test(model))
  );
}

/**
 * The model saved at `path` (a model.json or its folder): as saved when `conv` is undefined, else
 * converted to that conv kind as loadModelBuilder does (overparameterize / foldModel: same function).
 */
export async function loadModelAs(path: string, conv?: ConvKind): Promise<tf.LayersModel> {
  const saved = await loadModel(fileSystem(path));
  if (conv === undefined) return saved;
  try {
    return conv === 'doconv' ? overparameterize(saved) : foldModel(saved);
  } finally {
    saved.dispose();
  }
}

/**
 * The model saved at `path` (a model.json, with or without weights, or a folder holding one) as a
 * builder for trainModel: its architecture, its weights when the file has them (else its layers'
 * initializers, which the run's seed does not seed), converted to the run's conv kind — 'doconv':
 * overparameterize (every k×k conv a DO layer, same function); 'conv': foldModel (DO layers back to
 * plain convs, same function). The builder is named `path` (recorded as the run's model) and checks
 * the model takes the data set's images and has one output per class.
 */
export async function loadModelBuilder(path: string): Promise<ModelBuilder> {
  if (typeof path !== 'string' || path === '') {
    throw new Error(`loadModelBuilder: path must be a non-empty path, got ${JSON.stringify(path)}`);
  }
  const model = await loadModel(fileSystem(path));
  const builder: ModelBuilder = ({ conv, inputShape, numClasses }) => {
    const given = model.inputs[0].shape.slice(1);
    if (model.inputs.length !== 1 || JSON.stringify(given) !== JSON.stringify(inputShape)) {
      throw new Error(
        `model ${path} takes inputs of shape ${JSON.stringify(given)} (${model.inputs.length} input(s)), ` +
          `the data set's images are ${JSON.stringify(inputShape)}`,
      );
    }
    const classes = model.outputs[0].shape[model.outputs[0].shape.length - 1];
    if (model.outputs.length !== 1 || classes !== numClasses) {
      throw new Error(
        `model ${path} has ${model.outputs.length} output(s) of width ${classes}, the data set has ${numClasses} classes`,
      );
    }
    return conv === 'doconv' ? overparameterize(model) : foldModel(model);
  };
  Object.defineProperty(builder, 'name', { value: path });
  // So a comparison's worker threads, which a function cannot reach, load the same file.
  Object.defineProperty(builder, MODEL_FILE, { value: path });
  return withSources(builder, [{ what: 'model', path }]);
}

/**
 * The file a loadModelBuilder builder loads, and nothing else: unlike modelSources, a builder that
 * adds to it (withInitialWeights) has none, since loading the file alone would not rebuild it.
 */
const MODEL_FILE = Symbol('doconv.modelFile');

/** The file a builder of loadModelBuilder loads (undefined for any other model). */
export function modelFileOf(model: unknown): string | undefined {
  return typeof model === 'function' ? (model as { [MODEL_FILE]?: string })[MODEL_FILE] : undefined;
}

/**
 * `model` (a zoo name or a builder) with its starting weights copied from the model saved at `path`,
 * layer by layer by name: every layer of the built model that has weights must be in the saved
 * model with weights of the same names and shapes (all mismatches are listed in one error, nothing
 * is half-copied). For a fine-tune from `doconv convert`'s output, say. The builder keeps the
 * model's name.
 */
export async function withInitialWeights(
  model: string | ModelBuilder,
  path: string,
): Promise<ModelBuilder> {
  const source = await loadModel(fileSystem(path));
  const build: ModelBuilder = typeof model === 'string' ? (o) => buildModel(model, o) : model;
  const builder: ModelBuilder = (opts) => {
    const target = build(opts);
    const problems: string[] = [];
    const writes: [tf.layers.Layer, tf.Tensor[]][] = [];
    for (const layer of target.layers) {
      if (layer.weights.length === 0) continue;
      let from: tf.layers.Layer;
      try {
        from = source.getLayer(layer.name);
      } catch {
        problems.push(`layer '${layer.name}' is not in ${path}`);
        continue;
      }
      const values = layer.weights.map((w) => {
        const name = shortWeightName(w);
        const match = from.weights.find((v) => shortWeightName(v) === name);
        if (!match) problems.push(`'${layer.name}/${name}' is not in ${path}`);
        else if (JSON.stringify(match.shape) !== JSON.stringify(w.shape)) {
          problems.push(
            `'${layer.name}/${name}' has shape ${JSON.stringify(w.shape)}, ${path} has ${JSON.stringify(match.shape)}`,
          );
        }
        return match?.read();
      });
      writes.push([layer, values as tf.Tensor[]]);
    }
    if (problems.length > 0) {
      target.dispose();
      throw new Error(
        `initial weights from ${path} do not fit model '${target.name}' (${problems.length} problem(s)):\n  ${problems.join('\n  ')}`,
      );
    }
    for (const [layer, values] of writes) layer.setWeights(values);
    return target;
  };
  Object.defineProperty(builder, 'name', {
    value: typeof model === 'string' ? model : model.name,
  });
  return withSources(builder, [...modelSources(model), { what: 'init', path }]);
}
