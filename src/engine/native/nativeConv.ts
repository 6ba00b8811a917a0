/**
 * The conv kernels of the native engine: oneDNN (native/src/conv.cc) reading and writing the wasm
 * heap in place. Forward (plain, depthwise, fused bias + activation), backward data, backward
 * weights. A call oneDNN cannot run as asked (not float32, NCHW, PReLU, a bias that is not one
 * value per channel, TF.js rounding modes other than floor) goes to the wasm kernel instead.
 *
 *   y[b,oh,ow,co] = act(Σ_{kh,kw,ci} x[b, oh·s+kh·d−p, ow·s+kw·d−p, ci] · w[kh,kw,ci,co] + bias[co])
 */
import * as tf from '@tensorflow/tfjs';
import { activationCode, nativeConvGeometry, type ConvCall } from './nativeConvGeometry.js';
import { runFallback } from './fallbacks.js';
import { isNativeBackend } from './NativeBackend.js';
import { type Heap, type NativeAddon, type Operand, requireNativeAddon } from './nativeAddon.js';
import { allFloat32, nativeOperands, type KernelArgs, makeFloat32Output } from './operands.js';

type Info = tf.TensorInfo;
type Shape4 = [number, number, number, number];

/** Rank-4 check naming the kernel, the argument and the shape. */
function shape4(kernel: string, name: string, shape: readonly number[]): Shape4 {
  if (shape.length !== 4) {
    throw new Error(
      `doconv native ${kernel}: ${name} must be rank 4 (NHWC / HWIO), got shape ${JSON.stringify(shape)}`,
    );
  }
  return shape as Shape4;
}

function checkChannels(kernel: string, x: Shape4, filter: Shape4): void {
  if (x[3] !== filter[2]) {
    throw new Error(
      `doconv native ${kernel}: x has ${x[3]} channels (shape ${JSON.stringify(x)}) but the filter ` +
        `expects ${filter[2]} (shape ${JSON.stringify(filter)})`,
    );
  }
}

/** The geometry every conv pass shares: shapes and the attributes TF.js gives all three. */
function convCall(
  xShape: Shape4,
  filterShape: Shape4,
  attrs: Pick<ConvCall, 'strides' | 'pad' | 'dimRoundingMode'> & {
    dilations?: ConvCall['dilations'];
  },
  depthwise: boolean,
): ConvCall {
  const { strides, dilations, pad, dimRoundingMode } = attrs;
  return { xShape, filterShape, strides, dilations, pad, dimRoundingMode, depthwise };
}

/** Conv2D, FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2D. */
export function nativeConvForward(kernel: string, depthwise: boolean, args: KernelArgs): Info {
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<
    string,
    Info | undefined
  >;
  const attrs = args.attrs as unknown as tf.FusedConv2DAttrs & { dataFormat?: string };
  const xs = shape4(kernel, 'x', x!.shape);
  const fs = shape4(kernel, 'filter', filter!.shape);
  checkChannels(kernel, xs, fs);
  const act = activationCode(attrs.activation);
  const outChannels = depthwise ? fs[2] * fs[3] : fs[3];
  // Broadcast biases of other shapes (a scalar, [1, co] rows …) stay with the wasm kernel.
  const biasPerChannel = bias == null || (bias.shape.length === 1 && bias.shape[0] === outChannels);
  if (
    (attrs.dataFormat ?? 'NHWC') !== 'NHWC' ||
    act === undefined ||
    preluActivationWeights != null ||
    !biasPerChannel ||
    !allFloat32(x, filter, bias) ||
    // A 1×1 depthwise conv is a per-channel scale: doconv's wasm kernels use it for per-channel
    // arithmetic (wasmOps), and XNNPACK's is several times faster than a oneDNN call there.
    (depthwise && fs[0] === 1 && fs[1] === 1)
  ) {
    return runFallback(kernel, args) as Info;
  }
  const g = nativeConvGeometry({
    ...convCall(xs, fs, attrs, depthwise),
    hasBias: bias != null,
    activation: act,
  });
  if (typeof g === 'string') {
    // computeConv2DInfo sizes both axes with the filter height and stride height when the pad
    // is a number; wasm's stock kernel then writes out of bounds. Refuse rather than corrupt.
    if (typeof attrs.pad === 'number') throw numericPadRefusal(kernel, attrs, fs, g);
    return runFallback(kernel, args) as Info;
  }
  const out = makeFloat32Output(args, [
    g.info.batchSize,
    g.info.outHeight,
    g.info.outWidth,
    g.info.outChannels,
  ]);
  if (tf.util.sizeFromShape(out.shape) === 0) return out;
  const { heap, refs } = nativeOperands(args.backend, x, filter, bias, out);
  requireNativeAddon(kernel).convForward(
    heap,
    g.geom,
    refs[0],
    refs[1],
    refs[2],
    refs[3],
    attrs.leakyreluAlpha ?? 0.2,
  );
  return out;
}

/** The error for a numeric pad TF.js sizes inconsistently (see the callers). */
function numericPadRefusal(
  kernel: string,
  attrs: { pad: unknown; strides: unknown; dilations?: unknown },
  fs: Shape4,
  why: string,
): Error {
  const p = attrs.pad;
  return new Error(
    `doconv native ${kernel}: pad ${p} with filter ${fs[0]}×${fs[1]}, strides ` +
      `${JSON.stringify(attrs.strides)}, dilations ${JSON.stringify(attrs.dilations)}: TF.js ` +
      `sizes the output ${why}; pass explicit padding ` +
      `[[0, 0], [${p}, ${p}], [${p}, ${p}], [0, 0]] instead`,
  );
}

type BackpropAttrs = tf.Conv2DBackpropInputAttrs &
  tf.Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };

/** Conv2DBackpropInput, DepthwiseConv2dNativeBackpropInput: dx from dy and the filter. */
export function nativeConvBackpropInput(
  kernel: string,
  depthwise: boolean,
  args: KernelArgs,
): Info {
  const { dy, filter } = args.inputs as Record<string, Info>;
  return nativeConvBackprop(kernel, depthwise, args, {
    x: ['inputShape', (args.attrs as unknown as BackpropAttrs).inputShape],
    filter: ['filter', filter.shape],
    dy,
    operands: [dy, filter],
    gradientOf: 'x',
    run: (addon, heap, geom, o) => addon.convBackwardData(heap, geom, o[0], o[1], o[2]),
  });
}

/** Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter: dw from x and dy. */
export function nativeConvBackpropFilter(
  kernel: string,
  depthwise: boolean,
  args: KernelArgs,
): Info {
  const { x, dy } = args.inputs as Record<string, Info>;
  return nativeConvBackprop(kernel, depthwise, args, {
    x: ['x', x.shape],
    filter: ['filterShape', (args.attrs as unknown as BackpropAttrs).filterShape],
    dy,
    operands: [x, dy],
    gradientOf: 'filter',
    run: (addon, heap, geom, o) => addon.convBackwardWeights(heap, geom, o[0], o[1], o[2]),
  });
}

/** What one backprop kernel brings to nativeConvBackprop. */
interface Backprop {
  /** The forward conv's input and filter shapes, each with the name its errors use. */
  x: [name: string, shape: readonly number[]];
  filter: [name: string, shape: readonly number[]];
  dy: Info;
  /** The two tensors the addon reads besides the output, in its argument order. */
  operands: [Info, Info];
  /** Which forward operand the gradient is for: the output's shape. */
  gradientOf: 'x' | 'filter';
  run(addon: NativeAddon, heap: Heap, geom: Int32Array, refs: Operand[]): void;
}

/** Both backprops: checks, the wasm fallback, the geometry, then the addon writes the gradient. */
function nativeConvBackprop(
  kernel: string,
  depthwise: boolean,
  args: KernelArgs,
  pass: Backprop,
): Info {
  const attrs = args.attrs as unknown as BackpropAttrs;
  const xs = shape4(kernel, pass.x[0], pass.x[1]);
  const fs = shape4(kernel, pass.filter[0], pass.filter[1]);
  shape4(kernel, 'dy', pass.dy.shape);
  checkChannels(kernel, xs, fs);
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !allFloat32(...pass.operands)) {
    return runFallback(kernel, args) as Info;
  }
  // dy fixes the output size: fit the far padding to it (TF.js's rounding, numeric pads).
  const g = nativeConvGeometry(convCall(xs, fs, attrs, depthwise), true);
  if (typeof g === 'string') {
    // On doconv-native the fallback is tfjs-backend-cpu's kernel, which reads out of range on
    // these sizes (doconv's wasm kernels, wasm's fallback, compute them).
    if (isNativeBackend(args.backend) && typeof attrs.pad === 'number') {
      throw numericPadRefusal(kernel, attrs, fs, g);
    }
    return runFallback(kernel, args) as Info;
  }
  checkOutputGradient(kernel, pass.dy, g.info);
  const shape = pass.gradientOf === 'x' ? xs : fs;
  const grad = makeFloat32Output(args, shape);
  if (tf.util.sizeFromShape(shape) === 0) return grad;
  const { heap, refs } = nativeOperands(args.backend, ...pass.operands, grad);
  pass.run(requireNativeAddon(kernel), heap, g.geom, refs);
  return grad;
}

function checkOutputGradient(kernel: string, dy: Info, info: tf.backend_util.Conv2DInfo): void {
  const want = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (!tf.util.arraysEqual(dy.shape, want)) {
    throw new Error(
      `doconv native ${kernel}: dy has shape ${JSON.stringify(dy.shape)}, the conv's output is ${JSON.stringify(want)}`,
    );
  }
}
