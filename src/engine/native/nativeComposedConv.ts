/**
 * DO-Conv's fused convolution on the native engine (util/composeKernelOp.ts's COMPOSED_CONV):
 * each kernel composes K (or takes K's gradient apart) in a scratch buffer on the wasm heap around
 * the native conv pass, so a DO-Conv layer's training step runs as many TF.js kernels as a conv
 * layer's: forward, backward data, backward weights. The pieces are the native composition
 * (nativeCompose.ts) and conv (nativeConv.ts) kernels, called directly.
 */
import * as tf from '@tensorflow/tfjs';
import {
  COMPOSED_CONV,
  COMPOSED_CONV_GRAD_INPUT,
  COMPOSED_CONV_GRAD_WEIGHTS,
} from '../../util/composeKernelOp.js';
import { composedKernelShape, nativeCompose, nativeComposeGrad } from './nativeCompose.js';
import {
  nativeConvBackpropFilter,
  nativeConvBackpropInput,
  nativeConvForward,
} from './nativeConv.js';
import type { KernelArgs } from './operands.js';

type Info = tf.TensorInfo;

/** K from {d, dDiag, weight} into a scratch tensor; `use` it, then free it whatever happens. */
function withComposedKernel<T>(args: KernelArgs, use: (k: Info) => T): T {
  const { d, dDiag, weight } = args.inputs as Record<string, Info>;
  const k = nativeCompose({ ...args, inputs: { d, dDiag, weight } });
  try {
    return use(k);
  } finally {
    args.backend.disposeData(k.dataId);
  }
}

/** y = conv2d(x, K) */
export function nativeComposedConv(args: KernelArgs): Info {
  const { x } = args.inputs as Record<string, Info>;
  return withComposedKernel(args, (filter) =>
    nativeConvForward(tf.Conv2D, false, { ...args, inputs: { x, filter } }),
  );
}

/** dx = conv2d's backward data through K */
export function nativeComposedConvGradInput(args: KernelArgs): Info {
  const { dy } = args.inputs as Record<string, Info>;
  return withComposedKernel(args, (filter) =>
    nativeConvBackpropInput(tf.Conv2DBackpropInput, false, { ...args, inputs: { dy, filter } }),
  );
}

/** [dD, dW]: conv2d's backward weights gives dK, the composition's gradient takes it apart. */
export function nativeComposedConvGradWeights(args: KernelArgs): Info[] {
  const { x, dy, d, dDiag, weight } = args.inputs as Record<string, Info>;
  const filterShape = composedKernelShape(COMPOSED_CONV_GRAD_WEIGHTS, args);
  const dk = nativeConvBackpropFilter(tf.Conv2DBackpropFilter, false, {
    ...args,
    inputs: { x, dy },
    attrs: { ...args.attrs, filterShape },
  });
  try {
    return nativeComposeGrad({ ...args, inputs: { dy: dk, d, dDiag, weight } });
  } finally {
    args.backend.disposeData(dk.dataId);
  }
}

/**
 * dD and dW come from one kernel made when the tape asks for this node's gradients (the algebra
 * takes this path only for trainable D and W, convolveComposed.ts); dx from another, only when an
 * earlier layer needs it.
 */
export const composedConvGradConfig: tf.GradConfig = {
  kernelName: COMPOSED_CONV,
  inputsToSave: ['x', 'd', 'dDiag', 'weight'],
  gradFunc: (dy, saved, attrs) => {
    const [x, d, dDiag, weight] = saved;
    const engine = tf.engine();
    const [dd, dw] = engine.runKernel(
      COMPOSED_CONV_GRAD_WEIGHTS,
      { x, dy: dy as tf.Tensor, d, dDiag, weight },
      attrs,
    ) as tf.Tensor[];
    return {
      x: () =>
        engine.runKernel(COMPOSED_CONV_GRAD_INPUT, { dy: dy as tf.Tensor, d, dDiag, weight }, {
          ...attrs,
          inputShape: x.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
      d: () => dd,
      // D_diag is a constant of the layer; its gradient (equal to D's) is never asked for.
      dDiag: () => dd,
      weight: () => dw,
    };
  },
};
