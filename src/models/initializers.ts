import * as tf from '@tensorflow/tfjs';
import { mixSeeds } from '../data/prng.js';
import type { Initializer } from '../layers/standardConvArgs.js';

/**
 * Hands out one initializer per weight, each with its own seed drawn from a model seed, so the same
 * seed gives identical initial weights (and no two layers share a stream). Seeds are handed out in
 * construction order: a conv model and its doconv twin build the same layers in the same order, so
 * their k-th initializers get the same seed — a DO layer's W then starts equal to the conv kernel
 * (W [M·N, C, F] holds the same number of values as [M, N, C, F], with the same fan-in and fan-out).
 *
 * Without a seed every initializer is unseeded (Math.random), as tf.layers' defaults are.
 */
export class SeededInitializers {
  private index = 0;

  constructor(readonly seed?: number) {
    if (seed !== undefined && !Number.isInteger(seed)) {
      throw new Error(`seed must be an integer, got ${JSON.stringify(seed)}`);
    }
  }

  /** The next seed, or undefined when unseeded. tfjs treats seed 0 as "unseeded" in places: never 0. */
  nextSeed(): number | undefined {
    if (this.seed === undefined) return undefined;
    return mixSeeds(this.seed, this.index++) || 1;
  }

  /** Keras's default kernel initializer (Xavier/Glorot uniform, fan average). */
  glorotUniform(): Initializer {
    return tf.initializers.glorotUniform({ seed: this.nextSeed() });
  }

  /** uniform(±√(3·scale/fan)): PyTorch's conv default is scale 1/3, fanIn; Gluon's Xavier(magnitude m) is scale m/3, fanAvg. */
  varianceScalingUniform(scale: number, mode: 'fanIn' | 'fanOut' | 'fanAvg'): Initializer {
    return tf.initializers.varianceScaling({
      scale,
      mode,
      distribution: 'uniform',
      seed: this.nextSeed(),
    });
  }

  /** U(−bound, bound): PyTorch's default conv/linear bias is bound 1/√fan_in. */
  uniform(bound: number): Initializer {
    return tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: this.nextSeed() });
  }
}
