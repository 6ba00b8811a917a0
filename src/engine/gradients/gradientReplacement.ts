/** A gradient doconv swaps in for `kernelName`, built around tfjs-core's original (its fallback). */
import * as tf from '@tensorflow/tfjs';

export interface GradientReplacement {
  /** the kernel whose gradient is replaced */
  kernelName: string;
  /** our GradConfig; it runs `original` wherever it does not apply (other backends, odd shapes) */
  replace: (original: tf.GradConfig) => tf.GradConfig;
}

/**
 * The gradient of a one-input element-wise kernel (`kernelName`, input x) as one call of doconv's
 * fused gradient kernel `gradKernel` (inputs {dy, x}, attrs from the forward kernel's `attrsOf`)
 * where the active backend has it and both are float32; tfjs-core's original elsewhere.
 */
export function oneKernelGradient(
  kernelName: string,
  gradKernel: string,
  attrsOf: (attrs: tf.NamedAttrMap) => tf.NamedAttrMap,
): GradientReplacement {
  return {
    kernelName,
    replace: (original) => ({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved;
        const d = dy as tf.Tensor;
        if (
          tf.getKernel(gradKernel, tf.getBackend()) == null ||
          x.dtype !== 'float32' ||
          d.dtype !== 'float32'
        ) {
          return original.gradFunc(dy, saved, attrs);
        }
        return {
          x: () => tf.engine().runKernel(gradKernel, { dy: d, x }, attrsOf(attrs)) as tf.Tensor,
        };
      },
    }),
  };
}
