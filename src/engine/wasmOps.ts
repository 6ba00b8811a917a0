/**
 * Thin calls into the wasm backend's own kernels, so the training kernels in ./kernels can be
 * composed from XNNPACK-backed pieces without going through the tensor-level API (no tape, no
 * engine bookkeeping, no Tensor objects: only TensorInfos that we free ourselves).
 *
 * Every helper returns a fresh TensorInfo the caller owns; free it with `release`.
 */
import * as tf from '@tensorflow/tfjs';

type Backend = tf.KernelBackend;
type Info = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;

/** The wasm backend's kernelFunc for `kernelName`, looked up at call time (it may be registered late). */
function wasmKernel(kernelName: string): tf.KernelFunc {
  const config = tf.getKernel(kernelName, 'wasm');
  if (config == null) {
    throw new Error(
      `doconv engine: kernel '${kernelName}' is not registered for backend 'wasm'; ` +
        `import '@tensorflow/tfjs-backend-wasm' before training on wasm`,
    );
  }
  return config.kernelFunc;
}

export function run(
  kernelName: string,
  backend: Backend,
  inputs: Record<string, Info>,
  attrs: Attrs = {},
): Info {
  return wasmKernel(kernelName)({ inputs, attrs, backend }) as Info;
}

/** Frees intermediates. Reshape shares data (refCount), so disposeData is always the right call. */
export function release(backend: Backend, ...infos: Array<Info | null | undefined>): void {
  for (const info of infos) if (info != null) backend.disposeData(info.dataId);
}

export type Pad2D = [[number, number], [number, number], [number, number], [number, number]];

/** A forward conv kernel of wasm's (XNNPACK-backed), NHWC, called with the backend directly. */
function convKernel(kernelName: 'Conv2D' | 'DepthwiseConv2dNative') {
  return (
    backend: Backend,
    x: Info,
    filter: Info,
    strides: [number, number],
    dilations: [number, number],
    pad: Pad2D | 'valid' | 'same',
  ): Info =>
    run(kernelName, backend, { x, filter }, {
      strides,
      dilations,
      pad,
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
    } as unknown as Attrs);
}

export const conv2d = convKernel('Conv2D');
export const depthwiseConv2d = convKernel('DepthwiseConv2dNative');

export function transpose(backend: Backend, x: Info, perm: number[]): Info {
  return run('Transpose', backend, { x }, { perm });
}

export function reshape(backend: Backend, x: Info, shape: number[]): Info {
  return run('Reshape', backend, { x }, { shape });
}

export function reverse(backend: Backend, x: Info, dims: number[]): Info {
  return run('Reverse', backend, { x }, { dims });
}

export function padV2(backend: Backend, x: Info, paddings: Array<[number, number]>): Info {
  return run('PadV2', backend, { x }, { paddings, constantValue: 0 } as unknown as Attrs);
}

export function slice(backend: Backend, x: Info, begin: number[], size: number[]): Info {
  return run('Slice', backend, { x }, { begin, size });
}

export function sum(backend: Backend, x: Info, axis: number[]): Info {
  return run('Sum', backend, { x }, { axis, keepDims: false });
}

/** Slice only when the window is smaller than x: Slice always copies, and most calls need none. */
export function cropIfNeeded(backend: Backend, x: Info, begin: number[], size: number[]): Info {
  const whole = x.shape.every((d, i) => begin[i] === 0 && size[i] === d);
  return whole ? reshape(backend, x, x.shape) : slice(backend, x, begin, size);
}

/** Zero-pad only when some padding is non-zero (PadV2 copies). */
export function padIfNeeded(backend: Backend, x: Info, paddings: Array<[number, number]>): Info {
  const none = paddings.every(([a, b]) => a === 0 && b === 0);
  return none ? reshape(backend, x, x.shape) : padV2(backend, x, paddings);
}

/** XNNPACK average pooling, NHWC, no padding. */
export function avgPool(
  backend: Backend,
  x: Info,
  filterSize: [number, number],
  strides: [number, number],
): Info {
  return run('AvgPool', backend, { x }, {
    filterSize,
    strides,
    pad: 'valid',
    dimRoundingMode: undefined,
  } as unknown as Attrs);
}

/** XNNPACK depthwise conv with a per-channel bias (FusedDepthwiseConv2D, linear activation). */
export function depthwiseConv2dBias(backend: Backend, x: Info, filter: Info, bias: Info): Info {
  return run('FusedDepthwiseConv2D', backend, { x, filter, bias }, {
    strides: [1, 1],
    dilations: [1, 1],
    pad: 'valid',
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
    activation: 'linear',
  } as unknown as Attrs);
}
