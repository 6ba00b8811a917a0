/**
 * The optimizer's update on the native engine: every variable of a step in one addon call
 * (native/src/optimizer.cc), on every core for the large ones, on doconv-native (Float32Arrays by
 * pointer) and on wasm (heap offsets). The slots (m, v, velocity) are updated in place: no one else
 * holds them. Each new weight goes
 * - on doconv-native, into the weight's own buffer when nothing else can see it
 *   (NativeBackend.writableInPlace): one tensor holds its data id (Identity, Reshape and Cast share
 *   a tensor's buffer, so a clone or snapshot taken before the step keeps the weight out of place),
 *   the backend allocated the buffer, whole, and no caller read it out (dataSync returns the array
 *   itself there). No native kernel keeps anything derived from a weight's values between calls
 *   (oneDNN primitives are cached by shape). Why: a fresh buffer, its tensor, the assign and the
 *   old buffer's release cost ~2 µs a variable (docs/engine.md), on a small net's ~2 ms step much
 *   of what DO-Conv's three extra variables add;
 * - otherwise into a fresh buffer the variable is then assigned — always on wasm, where XNNPACK
 *   keeps a weight packed per tensor and would go on computing with the old values (measured:
 *   training diverged).
 * A variable whose slot buffer another tensor shares (TF.js refcounts shared buffers), or that is
 * not float32, is left to the optimizer's per-variable kernel: writing in place must never change a
 * tensor the caller holds.
 */
import * as tf from '@tensorflow/tfjs';
import {
  adamNumbers,
  sgdNumbers,
  type OptimizerRule,
  type VariableUpdate,
} from '../kernels/optimizerSteps.js';
import { isNativeBackend } from './NativeBackend.js';
import { requireNativeAddon } from './nativeAddon.js';
import { makeFloat32Output, nativeOperands, operandList } from './operands.js';

const KIND = { adam: 0, sgd: 1, sgdMomentum: 2 } as const;

function updatable(backend: tf.KernelBackend, u: VariableUpdate, slots: number): boolean {
  const size = u.value.size;
  return (
    u.slots.length === slots &&
    [u.value, u.gradient, ...u.slots].every((t) => t.dtype === 'float32' && t.size === size) &&
    u.slots.every((t) => backend.refCount(t.dataId) === 1) &&
    new Set(u.slots.map((t) => t.dataId)).size === u.slots.length
  );
}

/** The addon's kind and float32 numbers for `rule`. */
function kindAndParams(rule: OptimizerRule): [number, number[]] {
  if (rule.kind === 'adam') {
    const n = adamNumbers(rule.attrs);
    return [KIND.adam, [n.b1, n.c1, n.b2, n.c2, n.eps, n.step]];
  }
  const { lr, mu } = sgdNumbers(rule.attrs);
  return rule.attrs.momentum > 0 ? [KIND.sgdMomentum, [lr, mu]] : [KIND.sgd, [lr]];
}

export function nativeOptimizerStep(rule: OptimizerRule, updates: VariableUpdate[]): boolean[] {
  const backend = tf.backend();
  const slots = rule.kind === 'adam' ? 2 : rule.attrs.momentum > 0 ? 1 : 0;
  // A variable listed twice is updated in list order, as the cpu backend does: its first update
  // here, the later ones by the optimizer's per-variable path after this call.
  const seen = new Set<tf.Variable>();
  const done = updates.map((u) => {
    const first = !seen.has(u.value);
    seen.add(u.value);
    return first && updatable(backend, u, slots);
  });
  const chosen = updates.filter((_, i) => done[i]);
  if (chosen.length === 0) return done;
  // every allocation before nativeOperands (it may grow the heap); null: the weight's own buffer
  const fresh = chosen.map((u) =>
    isNativeBackend(backend) && backend.writableInPlace(u.value)
      ? null
      : makeFloat32Output({ backend }, [...u.value.shape]),
  );
  const tensors = chosen.flatMap((u, i) => [u.value, u.gradient, ...u.slots, fresh[i] ?? u.value]);
  const { heap, refs } = nativeOperands(backend, ...tensors);
  const [kind, params] = kindAndParams(rule);
  try {
    requireNativeAddon('optimizer step').optimizerStep(
      heap,
      kind,
      Float64Array.from(chosen, (u) => u.value.size),
      operandList(heap, refs),
      Float64Array.from(params),
    );
  } catch (e) {
    for (const t of fresh) if (t !== null) backend.disposeData(t.dataId);
    throw e;
  }
  const engine = tf.engine();
  chosen.forEach((u, i) => {
    const out = fresh[i];
    if (out === null) return;
    const next = engine.makeTensorFromTensorInfo(out);
    (u.value as tf.Variable).assign(next);
    next.dispose();
  });
  return done;
}
