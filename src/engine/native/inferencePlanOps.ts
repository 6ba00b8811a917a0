/**
 * A LayersModel's graph as the native inference plan's op records (native/src/plan.h): each layer
 * mapped to ops (inferencePlanLayers.ts), then fused the way onnxruntime fuses a graph — an
 * activation into the op before it, a residual Add into the conv that feeds it (oneDNN's `sum`
 * post-op), a ZeroPadding2D into the convs it feeds.
 */
import type * as tf from '@tensorflow/tfjs';
import {
  PLAN_ACT,
  PLAN_FIELDS,
  PLAN_OP,
  type IrOp,
  type PlanRecords,
  type Value,
} from './inferencePlanIr.js';
import { buildIr } from './inferencePlanLayers.js';

export { UnsupportedLayerError, type PlanRecords } from './inferencePlanIr.js';

/** Each value's consumers (the model output counts as one). */
function consumersOf(ops: IrOp[], output: IrOp): Map<Value, IrOp[]> {
  const users = new Map<Value, IrOp[]>();
  for (const op of ops) for (const v of op.inputs) users.set(v, [...(users.get(v) ?? []), op]);
  users.set(output, [...(users.get(output) ?? []), output /* the caller */]);
  return users;
}

function replaceUses(ops: IrOp[], from: IrOp, to: Value): void {
  for (const op of ops) op.inputs = op.inputs.map((v) => (v === from ? to : v));
}

/** Folds a standalone activation into the conv, dense, add or scale-shift before it. */
function fuseActivations(ops: IrOp[]): IrOp[] {
  let out = ops;
  for (const act of ops.filter((op) => op.kind === 'activation')) {
    const producer = act.inputs[0];
    if (producer === 'input') continue;
    const users = consumersOf(out, out[out.length - 1]).get(producer) ?? [];
    const fusable = ['conv', 'dense', 'add', 'scaleShift'].includes(producer.kind);
    if (!fusable || users.length !== 1 || producer.act.code !== PLAN_ACT.linear) continue;
    producer.act = act.act;
    producer.layer += ` + ${act.layer}`;
    replaceUses(out, act, producer);
    out = out.filter((op) => op !== act);
  }
  return out;
}

/** Folds add(conv(x), r) into the conv as its residual (oneDNN's sum post-op), act after it. */
function fuseResiduals(ops: IrOp[]): IrOp[] {
  let out = ops;
  for (const add of ops.filter((op) => op.kind === 'add')) {
    const users = consumersOf(out, out[out.length - 1]);
    const pick = [0, 1].find((i) => {
      const v = add.inputs[i];
      const other = add.inputs[1 - i];
      return (
        v !== 'input' &&
        v.kind === 'conv' &&
        v.inputs.length === 1 &&
        v.act.code === PLAN_ACT.linear &&
        (users.get(v) ?? []).length === 1 &&
        other !== v
      );
    });
    if (pick === undefined) continue;
    const conv = add.inputs[pick] as IrOp;
    conv.inputs = [conv.inputs[0], add.inputs[1 - pick]];
    conv.act = add.act;
    conv.layer += ` + ${add.layer}`;
    replaceUses(out, add, conv);
    // The conv now reads the residual: it runs where the add ran (after both operands).
    out = out.filter((op) => op !== conv).map((op) => (op === add ? conv : op));
  }
  return out;
}

/** Folds a ZeroPadding2D that feeds only convs into their padding. */
function fusePads(ops: IrOp[]): IrOp[] {
  let out = ops;
  for (const pad of ops.filter((op) => op.kind === 'pad')) {
    const users = consumersOf(out, out[out.length - 1]).get(pad) ?? [];
    if (
      users.length === 0 ||
      !users.every((u) => u.kind === 'conv' && u !== pad && u.inputs[0] === pad)
    )
      continue;
    if (users.some((u) => u.inputs.length > 1 && u.inputs[1] === pad)) continue;
    for (const conv of users) {
      conv.window = conv.window!.map((v, i) => (i >= 6 ? v + pad.window![i] : v));
      conv.inputs[0] = pad.inputs[0];
      conv.layer = `${pad.layer} + ${conv.layer}`;
    }
    out = out.filter((op) => op !== pad);
  }
  return out;
}

/** The model as plan records (throws UnsupportedLayerError for a layer the plan cannot run). */
export function planRecordsOf(model: tf.LayersModel): PlanRecords {
  const inputShape = model.inputs[0]?.shape.slice(1) as number[];
  let ops = buildIr(model);
  const output = ops[ops.length - 1];
  ops = fusePads(fuseResiduals(fuseActivations(ops)));
  // The fusions keep the output's op last: an activation or add it absorbs sits right after it.
  const last = ops[ops.length - 1];
  if (last !== output && !last.layer.includes(output.layer)) {
    throw new Error(`compileInference: internal error: the output op (${output.layer}) was lost`);
  }
  const ids = new Map<Value, number>([['input', 0]]);
  ops.forEach((op, i) => ids.set(op, i + 1));
  const weights: Float32Array[] = [];
  const addWeight = (w: Float32Array | undefined) => (w === undefined ? -1 : weights.push(w) - 1);
  const records = new Float64Array(ops.length * PLAN_FIELDS);
  ops.forEach((op, i) => {
    const r = records.subarray(i * PLAN_FIELDS, (i + 1) * PLAN_FIELDS);
    r[0] = PLAN_OP[op.kind];
    r[1] = ids.get(op.inputs[0])!;
    r[2] = op.inputs.length > 1 ? ids.get(op.inputs[1])! : -1;
    r[3] = op.act.code;
    r[4] = op.act.alpha;
    r[5] = op.act.beta;
    (op.window ?? [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]).forEach((v, j) => (r[6 + j] = v));
    r[16] = op.out ?? 0;
    r[17] = op.groups ?? 1;
    r[18] = addWeight(op.weight);
    r[19] = addWeight(op.bias);
    (op.extra ?? []).forEach((v, j) => (r[20 + j] = v));
  });
  return {
    records,
    weights,
    inputShape,
    outputShape: model.outputs[0].shape.slice(1) as number[],
    ops: ops.map((op) => `${op.kind}: ${op.layer}`),
  };
}
