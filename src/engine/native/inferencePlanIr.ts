/**
 * The inference plan's intermediate form: the op and activation codes of native/src/plan.h, and the
 * graph of plan ops a model becomes (inferencePlanLayers.ts) before it is fused and written as
 * records (inferencePlanOps.ts).
 */
import type * as tf from '@tensorflow/tfjs';

/** Op codes and activation codes of native/src/plan.h. */
export const PLAN_OP = {
  conv: 1,
  pool: 2,
  globalAvgPool: 3,
  dense: 4,
  activation: 5,
  add: 6,
  scaleShift: 7,
  pad: 8,
  softmax: 9,
  reshape: 10,
  concat: 11,
} as const;
export type OpKind = keyof typeof PLAN_OP;

export const PLAN_ACT = { linear: 0, relu: 1, clip: 2, tanh: 3, sigmoid: 4, elu: 5 } as const;
/** Fields of one record (native/src/plan.h kPlanFields). */
export const PLAN_FIELDS = 24;

export interface Act {
  code: number;
  alpha: number;
  beta: number;
}
export const LINEAR: Act = { code: PLAN_ACT.linear, alpha: 0, beta: 0 };

/** A value of the graph: the model's input or an op's output. */
export type Value = 'input' | IrOp;

export interface IrOp {
  kind: OpKind;
  inputs: Value[];
  act: Act;
  /** kh, kw, sh, sw, dh, dw, pt, pb, pl, pr (conv, pool, pad). */
  window?: number[];
  out?: number;
  groups?: number;
  weight?: Float32Array;
  bias?: Float32Array;
  extra?: number[];
  /** NHWC shape of the output (rank-2 as [n, 1, 1, c]), without the batch. */
  shape: [number, number, number];
  /** Which layer it comes from, for messages. */
  layer: string;
}

/** What the plan needs: op records, the weights they index, the input and output shapes. */
export interface PlanRecords {
  records: Float64Array;
  weights: Float32Array[];
  /** [h, w, c] of one input example. */
  inputShape: number[];
  /** The model's output shape without the batch (e.g. [10]). */
  outputShape: number[];
  /** One line per op: kind and the layers it fuses (for docs and debugging). */
  ops: string[];
}

export class UnsupportedLayerError extends Error {
  constructor(layer: tf.layers.Layer, why: string) {
    super(
      `compileInference: cannot compile layer ${layer.getClassName()} '${layer.name}': ${why}; use model.predict for this model`,
    );
    this.name = 'UnsupportedLayerError';
  }
}
