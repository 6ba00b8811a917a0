/**
 * Gradients of ClipByValue and Relu6 (MobileNet-v2's ReLU6) where the backend has doconv's one-pass
 * kernel (the native engine): tfjs-core builds ClipByValue's from GreaterEqual, LessEqual,
 * LogicalAnd and Select (four passes, three temporaries; on doconv-native they are cpu's JavaScript
 * kernels, 40 % of a MobileNet-v2 step), Relu6's from LessEqual, Step, Multiply, Cast, Multiply.
 * The kernel computes the same values (native/src/eltwise.h says how NaN is treated). Elsewhere
 * tfjs-core's gradients run.
 */
import * as tf from '@tensorflow/tfjs';
import { CLIP_GRAD } from '../fusedGradientOps.js';
import type { GradientReplacement } from './gradientReplacement.js';

function oneKernelClipGradient(
  kernelName: string,
  bounds: (attrs: tf.NamedAttrMap) => { lo: number; hi: number },
  mode: 'where' | 'mask',
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
          tf.getKernel(CLIP_GRAD, tf.getBackend()) == null ||
          x.dtype !== 'float32' ||
          d.dtype !== 'float32'
        ) {
          return original.gradFunc(dy, saved, attrs);
        }
        const kernelAttrs = { ...bounds(attrs), mode };
        return {
          x: () => tf.engine().runKernel(CLIP_GRAD, { dy: d, x }, kernelAttrs) as tf.Tensor,
        };
      },
    }),
  };
}

export const clipByValueGrad = oneKernelClipGradient(
  tf.ClipByValue,
  (attrs) => ({ lo: attrs.clipValueMin as number, hi: attrs.clipValueMax as number }),
  'where',
);

export const relu6Grad = oneKernelClipGradient(tf.Relu6, () => ({ lo: 0, hi: 6 }), 'mask');
