/**
 * The option types doconv/node exports, checked by tsc (`npx tsc --noEmit` covers test/): a zoo
 * name is a string-literal union, so a misspelled one does not compile, while a builder of your own
 * (the escape hatch) does; the types a user writes options with are exported. Each
 * `@ts-expect-error` line fails the type check if the line it covers ever compiles.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type {
  CompareOptions,
  ModelBuilder,
  RecipeOptions,
  SpeedOptions,
  TrainOptions,
  ZooModelName,
} from '../../src/node.js';

describe('option types', () => {
  it('zoo names are a union of literals; a builder of your own is the escape hatch', () => {
    const good: TrainOptions = { model: 'resnet-20', epochs: 1 };
    // @ts-expect-error 'resnet20' is not a zoo model (it is spelled 'resnet-20')
    const misspelled: TrainOptions = { model: 'resnet20' };
    // @ts-expect-error the same in a comparison
    const compared: CompareOptions = { model: 'resnet20' };
    // @ts-expect-error and in a speed measurement
    const timed: SpeedOptions = { model: 'resnet20' };
    const builder: ModelBuilder = ({ inputShape, numClasses }) =>
      tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape }),
          tf.layers.dense({ units: numClasses, activation: 'softmax' }),
        ],
      });
    const own: RecipeOptions = { model: builder, dataset: 'mnist' };
    const name: ZooModelName = 'deeplab-mini';
    // A name read at run time goes through the checks of resolveConfig, with a cast.
    const fromFile = JSON.parse('"resnet-20"') as ZooModelName;
    expect([good, misspelled, compared, timed, own, name, fromFile].length).toBe(7);
  });
});
