import * as tf from '@tensorflow/tfjs';
import { COMPOSED_CONV } from '../util/composeKernelOp.js';
import { composeKernelFromParts, type ComposeKernelOptions } from './composeKernel.js';
import { convolve, type ConvolveOptions } from './convolve.js';

/** What {@link convolveComposed} needs: the composition's and the conv's options. */
export type ConvolveComposedOptions = ComposeKernelOptions & ConvolveOptions;

/**
 * act(conv(x, compose(W, D + D_diag)) + b): a DO-Conv layer's forward pass. `dDiag` must be the
 * identity pattern diagIdentity builds (a layer's D_diag always is): the fused op builds it in.
 *
 * Where the caller says the backend offers doconv's fused DO-Conv convolution (options.routes.
 * composedConv: the native engine while a gradient tape records — without a tape the composed
 * kernel and TF.js's fused conv, bias and activation inside, are fewer kernels), one kernel
 * forward and one per gradient, as a plain conv takes; elsewhere the composed
 * kernel K (composeKernelFromParts) and `convolve`. Bias and activation are added as TF.js adds
 * them to a conv under a tape (its fused conv falls apart there too), so a DO-Conv layer runs the
 * same ops as a conv layer.
 */
export function convolveComposed(
  x: tf.Tensor4D,
  weight: tf.Tensor3D,
  d: tf.Tensor3D | null,
  dDiag: tf.Tensor3D | null,
  options: ConvolveComposedOptions,
): tf.Tensor4D {
  if (d === null || dDiag === null || !fusedApplies(weight, d, options)) {
    return tf.tidy(() => convolve(x, composeKernelFromParts(weight, d, dDiag, options), options));
  }
  const attrs = {
    kernelSize: options.kernelSize,
    strides: options.strides,
    pad: options.padding,
    dilations: [1, 1],
    dataFormat: 'NHWC',
  } as unknown as tf.NamedAttrMap;
  return tf.tidy(() => {
    // D_diag is built into the op (the identity pattern `dDiag` holds)
    let y = tf.engine().runKernel(COMPOSED_CONV, { x, d, weight }, attrs) as tf.Tensor4D;
    if (options.bias) y = tf.add(y, options.bias);
    return options.activation === 'relu' ? tf.relu(y) : y;
  });
}

function fusedApplies(weight: tf.Tensor3D, d: tf.Tensor3D, options: ConvolveComposedOptions) {
  const [dh, dw] = options.dilationRate;
  return (
    (options.groups ?? 1) === 1 &&
    dh === 1 &&
    dw === 1 &&
    weight.shape[0] === d.shape[1] &&
    options.routes?.composedConv === true &&
    // The fused gradient computes dD and dW whenever the layer's gradient is asked for; a frozen
    // layer (only dx wanted) keeps the op-built path, whose gradients are computed one by one.
    trainableVariable(weight) &&
    trainableVariable(d)
  );
}

function trainableVariable(t: tf.Tensor): boolean {
  return t instanceof tf.Variable && t.trainable;
}
