/**
 * Node-only (exported from `doconv/node`): a saved conv model in, its DO-Conv twin out — what
 * `doconv convert` runs.
 */
import type * as tf from '@tensorflow/tfjs';
import { overparameterize } from '../fold/overparameterize.js';
import { fileSystem } from '../io/fileSystemIO.js';
import { loadModel } from '../io/loadModel.js';
import { checkOutputPath } from '../io/outputPaths.js';

/** What {@link convertSavedModel} did. */
export interface ConvertReport {
  input: string;
  output: string;
  /** The layers that became DO layers, as 'name: Conv2D → DOConv2D'. */
  converted: string[];
  /** Convs of a converting class left as they are, with why (the warnings of overparameterize). */
  kept: string[];
  parameters: { before: number; after: number };
}

/**
 * Loads the TF.js LayersModel at `input` (a model.json, or a folder holding one), over-parameterizes
 * it (see overparameterize: same function, every k×k conv a DO layer starting from the trained kernel)
 * and saves the result to the folder `output` (model.json + weights.bin), ready to fine-tune
 * (`doconv train --model OUTPUT/model.json`) and fold back. The model's doconv metadata, if any, is
 * kept with `conv: 'doconv'` and `folded: false`.
 */
export async function convertSavedModel(input: string, output: string): Promise<ConvertReport> {
  for (const [name, value] of [
    ['input', input],
    ['output', output],
  ] as const) {
    if (typeof value !== 'string' || value === '') {
      throw new Error(
        `convertSavedModel: ${name} must be a non-empty path, got ${JSON.stringify(value)}`,
      );
    }
  }
  // `convert m m` would replace the model it converts (io/outputPaths.ts).
  await checkOutputPath('output', output, [{ what: 'input', path: input }]);
  const model = await loadModel(fileSystem(input));
  const kept: string[] = [];
  let converted: tf.LayersModel | undefined;
  try {
    converted = overparameterize(model, { onWarning: (message) => kept.push(message) });
    const meta = model.getUserDefinedMetadata() as { doconv?: object } | undefined;
    if (meta?.doconv) {
      converted.setUserDefinedMetadata({
        ...meta,
        doconv: { ...meta.doconv, conv: 'doconv', folded: false },
      });
    }
    await converted.save(fileSystem(output));
    const after = converted;
    return {
      input,
      output,
      converted: model.layers
        .map((layer, i) => [layer, after.layers[i]] as const)
        .filter(([a, b]) => a.getClassName() !== b.getClassName())
        .map(([a, b]) => `${a.name}: ${a.getClassName()} → ${b.getClassName()}`),
      kept,
      parameters: { before: model.countParams(), after: converted.countParams() },
    };
  } finally {
    model.dispose();
    converted?.dispose();
  }
}
