/**
 * Whether a dilated conv trains directly on a backend: tfjs-core's Conv2D and DepthwiseConv2dNative
 * gradients refuse dilations > 1, and doconv's engine replaces them (engine/gradients/
 * dilatedConvGrad.ts) with gradients that take dilations on the backends its kernels run —
 * `ENGINE_BACKENDS`. Read from tfjs's gradient registry (no state of its own): the engine marks its
 * replacements with `DILATED_GRADIENT_MARK`. Kept here, below engine and layers, so both read it.
 */
import * as tf from '@tensorflow/tfjs';

/** The backends doconv's engine trains on: its gradients apply there (names only). */
export const ENGINE_BACKENDS: readonly string[] = ['wasm', 'doconv-native'];

/** A property set to true on the engine's dilation-aware conv gradients. */
export const DILATED_GRADIENT_MARK = 'doconvTakesDilations';

export function hasDilatedConvGradients(backend: string): boolean {
  if (!ENGINE_BACKENDS.includes(backend)) return false;
  return [tf.Conv2D, tf.DepthwiseConv2dNative].every(
    (k) =>
      (tf.getGradient(k) as unknown as Record<string, unknown> | undefined)?.[
        DILATED_GRADIENT_MARK
      ] === true,
  );
}
