/** `--model PATH` and `--init PATH`: the CLI's reading of a model given as a file. */
import { InvalidArgumentError } from 'commander';
import type { RecipeOptions } from '../train/config.js';
import { isModelFilePath, loadModelBuilder, withInitialWeights } from '../train/modelFile.js';

/** Whether --model names a saved model (a path: has a slash or ends in .json) rather than a zoo net. */
export const isModelPath = isModelFilePath;

/** The recipe's model with --model PATH loaded and --init applied (see train/modelFile.ts). */
export async function modelFromFlags(
  model: RecipeOptions['model'],
  init: string | undefined,
): Promise<RecipeOptions['model']> {
  const own =
    typeof model === 'string' && isModelPath(model) ? await loadModelBuilder(model) : model;
  if (init === undefined) return own;
  if (own === undefined) {
    throw new InvalidArgumentError(
      '--init needs --model (the zoo net or model file the weights are for)',
    );
  }
  return withInitialWeights(own, init);
}
