/**
 * DO-Conv's fused convolution on the native engine (util/composeKernelOp.ts's COMPOSED_CONV):
 * each kernel is one addon call that composes K (or takes dK apart) in a per-thread scratch
 * buffer of the addon around the conv pass (native/src/compose.h, composedConv*), so a DO-Conv
 * layer's training step runs as many TF.js kernels as a conv layer's — forward, backward data,
 * backward weights — and K never becomes a tensor. A call the native conv would hand to its
 * fallback (or refuse) composes K as a tensor and goes through the conv kernels of nativeConv.ts,
 * which fall back or refuse as they do for a conv. The ops take no D_diag: it is the identity
 * pattern (util/composeKernelOp.ts), which the addon builds in, so the tape saves x, D and W as it
 * saves a conv's x and filter, and no copy of D_diag per layer and step.
 */
import * as tf from '@tensorflow/tfjs';
import {
  COMPOSED_CONV,
  COMPOSED_CONV_GRAD_INPUT,
  COMPOSED_CONV_GRAD_WEIGHTS,
} from '../../util/composeKernelOp.js';
import {
  composeGeometry,
  composedKernelShape,
  nativeCompose,
  nativeComposeGrad,
  withDiag,
} from './nativeCompose.js';
import {
  nativeConvBackpropFilter,
  nativeConvBackpropInput,
  nativeConvForward,
} from './nativeConv.js';
import { nativeConvGeometry } from './nativeConvGeometry.js';
import { requireNativeAddon } from './nativeAddon.js';
import { allFloat32, makeFloat32Output, nativeOperands, type KernelArgs } from './operands.js';

type Info = tf.TensorInfo;
type Shape4 = [number, number, number, number];

/**
 * The one-call route's geometry (compose.h ComposedConvGeom: the conv's fields, then the
 * composition's) for input shape `xShape`, or null where nativeConv.ts would not run the conv
 * itself as asked (another layout or dtype, a size oneDNN does not compute, an empty tensor, a
 * shape it refuses): the caller then takes the composed-kernel route, which falls back or throws
 * exactly as a conv does. `dy` (the backprops) must be the conv's output.
 */
function fusedGeometry(
  kernel: string,
  args: KernelArgs,
  xShape: readonly number[],
  operands: Info[],
  dy?: Info,
): Int32Array | null {
  // Refused on every route: the composed-kernel route would drop a dDiag as silently.
  const { d, weight } = fusedInputs(kernel, args);
  // An addon built before these calls existed (a checkout's stale build) composes K as a tensor.
  if (typeof requireNativeAddon(kernel).composedConvForward !== 'function') return null;
  const attrs = args.attrs as unknown as tf.Conv2DAttrs;
  const compose = composeGeometry(kernel, d, undefined, weight);
  const filterShape = composedKernelShape(kernel, args, compose) as Shape4;
  if (
    (attrs.dataFormat ?? 'NHWC') !== 'NHWC' ||
    xShape.length !== 4 ||
    xShape[3] !== filterShape[2] ||
    !allFloat32(...operands) ||
    tf.util.sizeFromShape([...xShape]) === 0 ||
    tf.util.sizeFromShape(filterShape) === 0
  ) {
    return null;
  }
  const g = nativeConvGeometry(
    {
      xShape: xShape as Shape4,
      filterShape,
      strides: attrs.strides,
      dilations: attrs.dilations,
      pad: attrs.pad,
      dimRoundingMode: attrs.dimRoundingMode,
      depthwise: false,
    },
    dy != null,
  );
  if (typeof g === 'string') return null;
  const { info } = g;
  const outShape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (tf.util.sizeFromShape(outShape) === 0) return null;
  if (dy != null && !tf.util.arraysEqual(dy.shape, outShape)) return null;
  const geom = new Int32Array(g.geom.length + compose.length);
  geom.set(g.geom);
  geom.set(compose, g.geom.length);
  return geom;
}

/**
 * D and W of a fused op's inputs. A dDiag input is refused: the ops' D_diag is the identity
 * pattern, built in, and their gradient (which saves no D_diag) assumes it.
 */
function fusedInputs(kernel: string, args: KernelArgs): { d: Info; weight: Info } {
  const { d, dDiag, weight } = args.inputs as Record<string, Info | undefined>;
  if (dDiag != null) {
    throw new Error(
      `doconv native ${kernel}: takes no dDiag input (D_diag is the identity pattern, built in)`,
    );
  }
  return { d: d!, weight: weight! };
}

/** K from {d, weight} into a scratch tensor; `use` it, then free it whatever happens. */
function withComposedKernel<T>(args: KernelArgs, use: (k: Info) => T): T {
  const { d, weight } = args.inputs as Record<string, Info>;
  const k = nativeCompose({ ...args, inputs: { d, weight } });
  try {
    return use(k);
  } finally {
    args.backend.disposeData(k.dataId);
  }
}

/** y = conv2d(x, K) */
export function nativeComposedConv(args: KernelArgs): Info {
  const { x, d, weight } = args.inputs as Record<string, Info>;
  const geom = fusedGeometry(COMPOSED_CONV, args, x.shape, [x, d, weight]);
  if (geom !== null) {
    return withDiag(args, COMPOSED_CONV, d, undefined, (diag) => {
      const y = makeFloat32Output(args, [geom[0], geom[4], geom[5], geom[6]]);
      const { heap, refs } = nativeOperands(args.backend, x, d, diag, weight, y);
      const [xAt, dAt, diagAt, weightAt, yAt] = refs;
      requireNativeAddon(COMPOSED_CONV).composedConvForward(
        heap,
        geom,
        xAt,
        dAt,
        diagAt,
        weightAt,
        -1,
        yAt,
        0,
      );
      return y;
    });
  }
  return withComposedKernel(args, (filter) =>
    nativeConvForward(tf.Conv2D, false, { ...args, inputs: { x, filter } }),
  );
}

/** dx = conv2d's backward data through K */
export function nativeComposedConvGradInput(args: KernelArgs): Info {
  const { dy, d, weight } = args.inputs as Record<string, Info>;
  const { inputShape } = args.attrs as unknown as { inputShape: number[] };
  const geom = fusedGeometry(COMPOSED_CONV_GRAD_INPUT, args, inputShape, [dy, d, weight], dy);
  if (geom !== null) {
    return withDiag(args, COMPOSED_CONV_GRAD_INPUT, d, undefined, (diag) => {
      const dx = makeFloat32Output(args, [...inputShape]);
      const { heap, refs } = nativeOperands(args.backend, dy, d, diag, weight, dx);
      const [dyAt, dAt, diagAt, weightAt, dxAt] = refs;
      requireNativeAddon(COMPOSED_CONV_GRAD_INPUT).composedConvBackwardData(
        heap,
        geom,
        dyAt,
        dAt,
        diagAt,
        weightAt,
        dxAt,
      );
      return dx;
    });
  }
  return withComposedKernel(args, (filter) =>
    nativeConvBackpropInput(tf.Conv2DBackpropInput, false, { ...args, inputs: { dy, filter } }),
  );
}

/** [dD, dW]: conv2d's backward weights gives dK, the composition's gradient takes it apart. */
export function nativeComposedConvGradWeights(args: KernelArgs): Info[] {
  const { x, dy, d, weight } = args.inputs as Record<string, Info>;
  const geom = fusedGeometry(COMPOSED_CONV_GRAD_WEIGHTS, args, x.shape, [x, dy, d, weight], dy);
  if (geom !== null) {
    return withDiag(args, COMPOSED_CONV_GRAD_WEIGHTS, d, undefined, (diag) => {
      const dd = makeFloat32Output(args, [...d.shape]);
      const dw = makeFloat32Output(args, [...weight.shape]);
      const { heap, refs } = nativeOperands(args.backend, x, dy, d, diag, weight, dd, dw);
      const [xAt, dyAt, dAt, diagAt, weightAt, ddAt, dwAt] = refs;
      requireNativeAddon(COMPOSED_CONV_GRAD_WEIGHTS).composedConvBackwardWeights(
        heap,
        geom,
        xAt,
        dyAt,
        dAt,
        diagAt,
        weightAt,
        ddAt,
        dwAt,
      );
      return [dd, dw];
    });
  }
  const filterShape = composedKernelShape(
    COMPOSED_CONV_GRAD_WEIGHTS,
    args,
    composeGeometry(COMPOSED_CONV_GRAD_WEIGHTS, d, undefined, weight),
  );
  const dk = nativeConvBackpropFilter(tf.Conv2DBackpropFilter, false, {
    ...args,
    inputs: { x, dy },
    attrs: { ...args.attrs, filterShape },
  });
  try {
    return nativeComposeGrad({ ...args, inputs: { dy: dk, d, weight } });
  } finally {
    args.backend.disposeData(dk.dataId);
  }
}

/**
 * dD and dW come from one kernel made when the tape asks for this node's gradients (the algebra
 * takes this path only for trainable D and W, convolveComposed.ts); dx from another, only when an
 * earlier layer needs it. Saved: x, D and W, as a conv saves x and its filter.
 */
export const composedConvGradConfig: tf.GradConfig = {
  kernelName: COMPOSED_CONV,
  inputsToSave: ['x', 'd', 'weight'],
  gradFunc: (dy, saved, attrs) => {
    const [x, d, weight] = saved;
    const engine = tf.engine();
    const [dd, dw] = engine.runKernel(
      COMPOSED_CONV_GRAD_WEIGHTS,
      { x, dy: dy as tf.Tensor, d, weight },
      attrs,
    ) as tf.Tensor[];
    return {
      x: () =>
        engine.runKernel(COMPOSED_CONV_GRAD_INPUT, { dy: dy as tf.Tensor, d, weight }, {
          ...attrs,
          inputShape: x.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
      d: () => dd,
      weight: () => dw,
    };
  },
};
