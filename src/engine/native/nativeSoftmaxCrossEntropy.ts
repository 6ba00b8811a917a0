/**
 * Softmax cross-entropy on the native engine (util/softmaxCrossEntropyOp.ts, native/src/softmax.h):
 * one pass a row forward (max, exp, sums, loss and the softmax kept for the gradient) and one
 * backward.
 */
import * as tf from '@tensorflow/tfjs';
import { MAX_TENSOR_ELEMENTS } from '../kernelGuard.js';
import {
  SOFTMAX_CROSS_ENTROPY,
  SOFTMAX_CROSS_ENTROPY_GRAD,
} from '../../util/softmaxCrossEntropyOp.js';
import { requireNativeAddon } from './nativeAddon.js';
import { makeFloat32Output, nativeOperands, type KernelArgs } from './operands.js';

type Info = tf.TensorInfo;

/** [rows, classes] of `full` [..., C], with `perRow` [...] checked; errors name `kernel`. */
function rowGeometry(
  kernel: string,
  full: Record<string, Info | undefined>,
  perRow: Record<string, Info | undefined> = {},
): Int32Array {
  const [first] = Object.values(full);
  const shape = first?.shape ?? [];
  const classes = shape[shape.length - 1] ?? 0;
  const size = tf.util.sizeFromShape(shape);
  const fullOk = Object.values(full).every(
    (t) => t != null && t.dtype === 'float32' && tf.util.arraysEqual(t.shape, shape),
  );
  const rowOk = Object.values(perRow).every(
    (t) => t != null && t.dtype === 'float32' && tf.util.arraysEqual(t.shape, shape.slice(0, -1)),
  );
  if (!fullOk || !rowOk || shape.length < 1 || classes < 1 || size > MAX_TENSOR_ELEMENTS) {
    const all = { ...full, ...perRow };
    const got = Object.entries(all)
      .map(
        ([name, t]) => `${name} ${t == null ? 'absent' : `${t.dtype} ${JSON.stringify(t.shape)}`}`,
      )
      .join(', ');
    throw new Error(
      `doconv native ${kernel}: ${Object.keys(full).join(', ')} must be float32 of one shape ` +
        `[..., C] (C ≥ 1, at most 2^31 − 1 elements)` +
        (Object.keys(perRow).length > 0
          ? ` and ${Object.keys(perRow).join(', ')} that shape without C`
          : '') +
        `; got ${got}`,
    );
  }
  return Int32Array.of(size / classes, classes);
}

export function nativeSoftmaxCrossEntropy(args: KernelArgs): Info[] {
  const { labels, logits } = args.inputs as Record<string, Info | undefined>;
  const geom = rowGeometry(SOFTMAX_CROSS_ENTROPY, { labels, logits });
  const loss = makeFloat32Output(args, logits!.shape.slice(0, -1));
  const softmax = makeFloat32Output(args, [...logits!.shape]);
  const { heap, refs } = nativeOperands(args.backend, labels, logits, loss, softmax);
  const [labelsAt, logitsAt, lossAt, softmaxAt] = refs;
  requireNativeAddon(SOFTMAX_CROSS_ENTROPY).softmaxCrossEntropy(
    heap,
    geom,
    labelsAt,
    logitsAt,
    lossAt,
    softmaxAt,
  );
  return [loss, softmax];
}

export function nativeSoftmaxCrossEntropyGrad(args: KernelArgs): Info {
  const { dy, softmax, labels } = args.inputs as Record<string, Info | undefined>;
  const geom = rowGeometry(SOFTMAX_CROSS_ENTROPY_GRAD, { softmax, labels }, { dy });
  const dLogits = makeFloat32Output(args, [...softmax!.shape]);
  const { heap, refs } = nativeOperands(args.backend, dy, softmax, labels, dLogits);
  const [dyAt, softmaxAt, labelsAt, dLogitsAt] = refs;
  requireNativeAddon(SOFTMAX_CROSS_ENTROPY_GRAD).softmaxCrossEntropyGrad(
    heap,
    geom,
    dyAt,
    softmaxAt,
    labelsAt,
    dLogitsAt,
  );
  return dLogits;
}

/**
 * The op's gradient. Labels get the exact one too (Σ_j labels · (lse − logits) is linear in them:
 * dLabels = dy · (lse − logits) = −dy · log softmax), from TF.js ops: the trainer never needs it.
 */
export const softmaxCrossEntropyGradConfig: tf.GradConfig = {
  kernelName: SOFTMAX_CROSS_ENTROPY,
  inputsToSave: ['labels'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved) => {
    const [dy] = dys as tf.Tensor[];
    const [labels, softmax] = saved;
    return {
      logits: () =>
        tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_GRAD, { dy, softmax, labels }) as tf.Tensor,
      labels: () => tf.mul(tf.neg(tf.expandDims(dy, -1)), tf.log(softmax)),
    };
  },
};
