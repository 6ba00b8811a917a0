/**
 * Loads a model saved by `model.save('downloads://NAME')` (NAME.json + NAME.weights.bin) with plain
 * @tensorflow/tfjs in Node — no doconv import anywhere on this path, as a user of the file would.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export interface LoadedModel {
  model: tf.LayersModel;
  /** className of every layer in the saved topology. */
  layerClasses: string[];
}

export async function loadDownloadedModel(jsonPath: string): Promise<LoadedModel> {
  const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as tf.io.ModelJSON;
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const weightData = json.weightsManifest
    .flatMap((g) => g.paths)
    .map((p) => readFileSync(join(dirname(jsonPath), p)));
  const bytes = Buffer.concat(weightData);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs,
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    }),
  );
  // tfjs writes the Keras model config itself; Keras' .h5 conversions wrap it in model_config.
  type Config = { config?: { layers?: { class_name: string }[] } };
  const topology = json.modelTopology as Config & { model_config?: Config };
  const layers = topology.config?.layers ?? topology.model_config?.config?.layers ?? [];
  const layerClasses = layers.map((l) => l.class_name);
  return { model, layerClasses };
}

/** Probabilities for one 28×28 grey image (bytes 0..255), softmax applied when the model outputs logits. */
export function predictDigit(model: tf.LayersModel, pixels: number[], logits: boolean): number[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(
      pixels.map((v) => v / 255),
      [1, 28, 28, 1],
    );
    const y = model.predict(x) as tf.Tensor;
    return Array.from((logits ? tf.softmax(y) : y).dataSync());
  });
}
