/**
 * The optimizer's update on the native engine: every variable of a step in one addon call
 * (native/src/optimizer.cc), on every core for the large ones. The slots (m, v, velocity) are
 * updated in place on the wasm heap; each new weight goes to a fresh buffer the variable is then
 * assigned, because wasm's XNNPACK kernels keep a weight packed per tensor and would go on
 * computing with the old values (measured: training diverged). A variable whose slot buffer
 * another tensor shares (TF.js refcounts shared buffers), or that is not float32, is left to the
 * optimizer's per-variable kernel: writing in place must never change a tensor the caller holds.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import {
  adamNumbers,
  sgdNumbers,
  type OptimizerRule,
  type VariableUpdate,
} from '../kernels/optimizerSteps.js';
import { requireNativeAddon } from './nativeAddon.js';
import { heapOffsets } from './wasmHeap.js';

const KIND = { adam: 0, sgd: 1, sgdMomentum: 2 } as const;

function updatable(backend: BackendWasm, u: VariableUpdate, slots: number): boolean {
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
  const backend = tf.backend() as unknown as BackendWasm;
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
  // every allocation before heapOffsets (it may grow the heap)
  const fresh = chosen.map((u) => backend.makeOutput(u.value.shape, 'float32') as tf.TensorInfo);
  const tensors = chosen.flatMap((u, i) => [u.value, u.gradient, ...u.slots, fresh[i]]);
  const { heap, offsets } = heapOffsets(backend, ...tensors);
  const [kind, params] = kindAndParams(rule);
  try {
    requireNativeAddon('optimizer step').optimizerStep(
      heap,
      kind,
      Float64Array.from(chosen, (u) => u.value.size),
      Float64Array.from(offsets),
      Float64Array.from(params),
    );
  } catch (e) {
    for (const t of fresh) backend.disposeData(t.dataId);
    throw e;
  }
  const engine = tf.engine();
  chosen.forEach((u, i) => {
    const next = engine.makeTensorFromTensorInfo(fresh[i]);
    (u.value as tf.Variable).assign(next);
    next.dispose();
  });
  return done;
}
