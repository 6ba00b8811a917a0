/**
 * doconv's model loader: `tf.loadLayersModel`, except that weights that do not fit the model fail
 * naming the layer, the weight and both shapes (or dtypes). Browser-safe.
 *
 * Why a loader and not the layer: tfjs-layers writes loaded weights straight into the variables
 * (`LayerVariable.write`, no layer hook) and reports a wrong shape as a bare
 * 'Shape mismatch: [9,4,6] vs. [9,3,6]'. The weights can only be compared with the model once the
 * model is built, and that happens inside `tf.loadLayersModel`; so when loading fails, the model is
 * built again from the same topology (no weights) and the manifest's shapes are compared by name.
 * A good model pays nothing. Plain `tf.loadLayersModel` still gives tfjs' own message.
 */
import * as tf from '@tensorflow/tfjs';
import { checkModelTopology } from './modelGraph.js';
import { checkWeightSpecs } from './weightSpecBytes.js';

export interface LoadModelOptions {
  /**
   * Load weights holding NaN or ±Infinity. Default false: such a model is refused, naming the
   * weights (it would predict NaN; it is a diverged run, not something to evaluate or deploy).
   */
  allowNonFinite?: boolean;
}

/** Loads the LayersModel `handler` reads (e.g. `fileSystem(path)`, `tf.io.fromMemory(artifacts)`). */
export async function loadModel(
  handler: tf.io.IOHandler,
  options: LoadModelOptions = {},
): Promise<tf.LayersModel> {
  if (handler == null || typeof handler.load !== 'function')
    throw new Error('loadModel: the IOHandler cannot load (no load method)');
  const artifacts = await handler.load();
  // Whatever the handler: a cycle or dangling reference would hang TF.js's loader.
  if (!(artifacts.modelTopology instanceof ArrayBuffer))
    checkModelTopology(artifacts.modelTopology, 'loadModel');
  if (artifacts.weightSpecs) checkWeightSpecs(artifacts.weightSpecs, 'loadModel');
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel({ load: async () => artifacts });
  } catch (e) {
    const mismatches = await weightShapeMismatches(artifacts);
    if (mismatches.length === 0) throw e;
    throw new Error(
      `the weights do not fit the model (${mismatches.length} of ${artifacts.weightSpecs!.length} weights):\n  ` +
        mismatches.join('\n  '),
      { cause: e },
    );
  }
  if (!options.allowNonFinite) {
    const bad = nonFiniteWeights(model);
    if (bad.length > 0) {
      model.dispose();
      throw new Error(
        `the model has NaN or Infinity in ${bad.length} weight(s): ${bad.join(', ')} ` +
          `(a diverged run? pass allowNonFinite to load it anyway)`,
      );
    }
  }
  return model;
}

/** Names of the float weights holding a NaN or ±Infinity. */
function nonFiniteWeights(model: tf.LayersModel): string[] {
  return model.weights
    .filter((w) => w.dtype === 'float32')
    .filter((w) => tf.tidy(() => !tf.all(tf.isFinite(w.read())).dataSync()[0]))
    .map((w) => w.originalName);
}

/** One line per weight whose manifest shape or dtype differs from the model's, naming layer and weight. */
async function weightShapeMismatches(artifacts: tf.io.ModelArtifacts): Promise<string[]> {
  const specs = (artifacts.weightSpecs ?? []).filter((s) => s.group !== 'optimizer');
  if (specs.length === 0 || artifacts.modelTopology == null) return [];
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({
      modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    });
  } catch {
    return []; // the topology itself is bad: tfjs' error says why
  }
  try {
    const byName = new Map<string, { layer: tf.layers.Layer; weight: tf.LayerVariable }>();
    for (const layer of model.layers)
      for (const weight of layer.weights) byName.set(weight.originalName, { layer, weight });
    const lines: string[] = [];
    for (const spec of specs) {
      const target = byName.get(spec.name) ?? byName.get(withoutCellName(spec.name));
      if (!target) continue;
      const where = `${target.layer.getClassName()} '${target.layer.name}': weight '${spec.name}'`;
      if (!tf.util.arraysEqual(target.weight.shape as number[], spec.shape)) {
        lines.push(
          `${where} has shape ${JSON.stringify(target.weight.shape)}, the weights data has ${JSON.stringify(spec.shape)}`,
        );
      } else if (target.weight.dtype !== spec.dtype) {
        lines.push(`${where} has dtype ${target.weight.dtype}, the weights data has ${spec.dtype}`);
      }
    }
    return lines;
  } finally {
    model.dispose();
  }
}

/** TF ≥ 2.2 names an RNN cell's weights layer/cell/weight; tfjs matches them as layer/weight. */
function withoutCellName(name: string): string {
  const parts = name.split('/');
  return [...parts.slice(0, -2), parts[parts.length - 1]].join('/');
}
