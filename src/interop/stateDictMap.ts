import type * as tf from '@tensorflow/tfjs';

/**
 * How a PyTorch state_dict's module prefixes name a TF.js model's layers:
 * - 'layer-names': the prefix IS the TF.js layer name (`conv1.W`, `s1b1_bn1.running_mean`), as written by
 *   tools/train_ddp.py, whose zoo twins register every module under its TF.js layer's name;
 * - 'sequential': an nn.Sequential's indices (`0.W`, `2.W`, `4.W` — the official PyTorch sample): the
 *   k-th numbered module holding weights is the model's k-th layer holding weights. Modules without
 *   weights (nn.ReLU, pooling) take indices but no keys, so the indices need not be consecutive.
 */
export const STATE_DICT_LAYOUTS = ['layer-names', 'sequential'] as const;
export type StateDictLayout = (typeof STATE_DICT_LAYOUTS)[number];

/** What {@link deriveStateDictMap} found. */
export interface DerivedStateDictMap {
  layout: StateDictLayout;
  /** PyTorch module prefix → TF.js layer name: the `map` of loadPytorchStateDict. */
  map: Record<string, string>;
}

/**
 * The state_dict mapping of `model`, derived from its layers (never typed per net): every layer with
 * weights gets the prefix its layout gives it. `layout` 'auto' (default) picks 'sequential' when every
 * prefix is a number, else 'layer-names'. Keys left over or missing are for loadPytorchStateDict to
 * report (it lists them all); this throws only when the two sides cannot be paired at all.
 */
export function deriveStateDictMap(
  model: tf.LayersModel,
  keys: readonly string[],
  layout: StateDictLayout | 'auto' = 'auto',
): DerivedStateDictMap {
  if (layout !== 'auto' && !STATE_DICT_LAYOUTS.includes(layout)) {
    throw new Error(
      `deriveStateDictMap: layout must be 'auto', ${STATE_DICT_LAYOUTS.map((l) => `'${l}'`).join(' or ')}, got ${JSON.stringify(layout)}`,
    );
  }
  const prefixes: string[] = [];
  for (const key of keys) {
    const dot = key.lastIndexOf('.');
    if (dot <= 0) {
      throw new Error(
        `state_dict key ${JSON.stringify(key)} has no module prefix ('<module>.<parameter>' expected)`,
      );
    }
    const prefix = key.slice(0, dot);
    if (!prefixes.includes(prefix)) prefixes.push(prefix);
  }
  const weightLayers = model.layers.filter((l) => l.weights.length > 0);
  const numeric = prefixes.length > 0 && prefixes.every((p) => /^\d+$/.test(p));
  const chosen = layout === 'auto' ? (numeric ? 'sequential' : 'layer-names') : layout;
  if (chosen === 'layer-names') {
    return { layout: chosen, map: Object.fromEntries(weightLayers.map((l) => [l.name, l.name])) };
  }
  if (!numeric) {
    const bad = prefixes.find((p) => !/^\d+$/.test(p));
    throw new Error(
      `layout 'sequential' needs nn.Sequential indices as module prefixes, but the state_dict has ${JSON.stringify(bad)}`,
    );
  }
  const ordered = [...prefixes].sort((a, b) => Number(a) - Number(b));
  if (ordered.length !== weightLayers.length) {
    throw new Error(
      `the state_dict's nn.Sequential has ${ordered.length} modules with weights (${ordered.join(', ')}), ` +
        `model '${model.name}' has ${weightLayers.length} layers with weights (${weightLayers.map((l) => l.name).join(', ')})`,
    );
  }
  return {
    layout: chosen,
    map: Object.fromEntries(ordered.map((p, i) => [p, weightLayers[i].name])),
  };
}
