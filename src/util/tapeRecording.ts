/**
 * Whether a gradient tape (tf.grads, tf.variableGrads, optimizer.minimize) is recording now.
 * TF.js has no public API for this; this file is the one place in doconv that reads the engine's
 * internal `state.gradientDepth` (what tfjs-core's own private `isTapeOn` reads). If a TF.js
 * release renames it, this returns false and the caller takes its tape-independent path.
 */
import * as tf from '@tensorflow/tfjs';

export function tapeRecording(): boolean {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state;
  return (state?.gradientDepth ?? 0) > 0;
}
