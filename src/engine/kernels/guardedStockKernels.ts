/**
 * wasm's own kernels that doconv does not replace but registers behind its guard (../kernelGuard.ts):
 * the forward convs and the dense layers' fused product, which XNNPACK runs on uninitialised memory
 * for zero-size inputs and with wrapped sizes for giant explicit padding.
 *
 * The forward convs also get 'same' padding as the explicit numbers TF.js computes for it:
 * wasm's XNNPACK "TensorFlow SAME" mode sizes the padding itself and gets it wrong where an axis
 * needs none and the stride exceeds the filter (x [2,5,4,3], filter [3,1,3,2], strides 2: every
 * output differs from cpu's), while explicit padding gives cpu's result.
 */
import * as tf from '@tensorflow/tfjs';
import { runStock, setupStock } from '../stockKernels.js';

type Args = Parameters<typeof runStock>[1];
type Shape4 = [number, number, number, number];

const CONV_FORWARD = new Set<string>([
  tf.Conv2D,
  tf.FusedConv2D,
  tf.DepthwiseConv2dNative,
  tf.FusedDepthwiseConv2D,
]);

/** `args` with 'same' padding replaced by its explicit numbers (other calls unchanged). */
function explicitSamePadding(kernelName: string, args: Args): Args {
  const attrs = args.attrs as { pad?: unknown; strides: number | [number, number] } & {
    dilations?: number | [number, number];
  };
  const { x, filter } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  if (attrs.pad !== 'same' || x?.shape.length !== 4 || filter?.shape.length !== 4) return args;
  const { top, bottom, left, right } = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filter.shape as Shape4,
    attrs.strides,
    attrs.dilations ?? 1,
    'same',
    undefined,
    kernelName.includes('Depthwise'),
  ).padInfo;
  const pad = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
  return { ...args, attrs: { ...args.attrs, pad } as unknown as tf.NamedAttrMap };
}

export const guardedStockKernels: readonly tf.KernelConfig[] = [
  ...CONV_FORWARD,
  tf._FusedMatMul,
].map((kernelName) => ({
  kernelName,
  backendName: 'wasm',
  kernelFunc: ((args: Args) =>
    runStock(
      kernelName,
      CONV_FORWARD.has(kernelName) ? explicitSamePadding(kernelName, args) : args,
    )) as unknown as tf.KernelFunc,
  setupFunc: setupStock(kernelName),
}));
