/**
 * The official Keras DOConv2D spells the depth multiplier `D_mul`; tfjs-layers' loader turns that key
 * into `DMul` (its snake → camel conversion keeps the capital). A model.json written by doconv spells it
 * `d_mul`, which arrives as `dMul`. The DO layers read every spelling here, once, as their first step —
 * tfjs deserialises a layer with `new cls(config)` (Layer.fromConfig), so the constructor is the one
 * place every config passes through — and nothing after this sees anything but `dMul`.
 */
import { formatValue } from '../util/formatValue.js';

/** The Keras spellings of `dMul` a config (or plain JavaScript args) may carry. */
export interface KerasDMulSpellings {
  /** The official Keras layer's key. */
  D_mul?: number;
  /** `D_mul` after tfjs-layers' key conversion. */
  DMul?: number;
}

/** Args with the depth multiplier in one key, and whether it was spelled the Keras way. */
export interface NormalizedDMul {
  dMul?: number;
  /**
   * The config came from the official Keras layer (it spelled the depth multiplier `D_mul` / `DMul`).
   * DOConv2D then computes the official layer's function where it departs from the definition.
   */
  fromKeras: boolean;
}

/** Reads `dMul`, `DMul` and `D_mul`; fails if they disagree. */
export function normalizeDMulSpelling(args: { dMul?: number }): NormalizedDMul {
  // Plain JavaScript and deserialised configs are not bound by the args type.
  const spelled = args as { dMul?: number } & KerasDMulSpellings;
  const keras = [spelled.DMul, spelled.D_mul].filter((v) => v != null);
  const given = [spelled.dMul, ...keras].filter((v) => v != null);
  if (new Set(given).size > 1) {
    throw new Error(`dMul was given twice with different values: ${formatValue(given)}`);
  }
  return { dMul: given[0], fromKeras: keras.length > 0 };
}
