/**
 * The number rules of the library's options (integer?, bounds) and the checks that apply them to a
 * value handed to the library, with `showValue`, which prints NaN and ±Infinity as such
 * (JSON.stringify prints them as null). The CLI reads a flag's text by the same rules
 * (src/cli/textParsers.ts), so both accept the same values.
 *
 * A refusal names the option by its library name: "lr must be a number in (0, 10], got NaN" (the
 * CLI shows it with the flag's name).
 */
import { OptionError } from '../util/optionError.js';

/** A value as an error message shows it: NaN, Infinity, -Infinity, undefined and -0 included. */
export function showValue(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `a function ${JSON.stringify(value.name)}`;
  if (typeof value === 'symbol') return value.toString();
  try {
    // Numbers inside arrays and objects keep their NaN/Infinity too.
    return (
      JSON.stringify(value, (_k, v: unknown) =>
        typeof v === 'number' && !Number.isFinite(v) ? `«${String(v)}»` : v,
      ) ?? String(value)
    ).replace(/"«(-?\w+)»"/g, '$1');
  } catch {
    return String(value);
  }
}

/** What a number option accepts. Every rule also requires a finite number. */
export interface NumberRule {
  /** Whole numbers only (safe integers). */
  integer?: boolean;
  /** The smallest value accepted (excluded with minExclusive). */
  min?: number;
  minExclusive?: boolean;
  /** The largest value accepted (excluded with maxExclusive). */
  max?: number;
  maxExclusive?: boolean;
}

/**
 * The largest count any option takes (epochs, batch sizes, limits, steps, top-k …): 2^31 − 1, the
 * largest length a TF.js shape or a typed-array index loop holds. A count past it is a typo
 * (`--epochs 100000000000000` trained "forever"); what a smaller count allocates is held to the
 * size cap where it is allocated (util/sizeLimit.ts).
 */
export const MAX_COUNT = 2 ** 31 - 1;

/** A rule in words: "a positive integer", "a number ≥ 0", "a number in (0, 10]". */
export function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? 'integer' : 'number';
  const { min, max } = rule;
  // A count's cap is said only to a count past it (overCount), not to every "0" or "x".
  if (rule.integer && min === 1 && !rule.minExclusive && max === MAX_COUNT) {
    return 'a positive integer';
  }
  if (min !== undefined && max !== undefined) {
    return `a${kind === 'integer' ? 'n' : ''} ${kind} in ${rule.minExclusive ? '(' : '['}${min}, ${max}${rule.maxExclusive ? ')' : ']'}`;
  }
  if (min !== undefined) {
    if (min === 0 && rule.minExclusive) return `a positive ${kind}`;
    if (min === 1 && rule.integer && !rule.minExclusive) return 'a positive integer';
    return `a${kind === 'integer' ? 'n' : ''} ${kind} ${rule.minExclusive ? '>' : '≥'} ${min}`;
  }
  if (max !== undefined) {
    return `a${kind === 'integer' ? 'n' : ''} ${kind} ${rule.maxExclusive ? '<' : '≤'} ${max}`;
  }
  return kind === 'integer' ? 'an integer' : 'a finite number';
}

/** Whether `value` is a number `rule` accepts. */
export function satisfies(value: unknown, rule: NumberRule): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (rule.integer && !Number.isSafeInteger(value)) return false;
  const { min, max } = rule;
  if (min !== undefined && (rule.minExclusive ? !(value > min) : !(value >= min))) return false;
  if (max !== undefined && (rule.maxExclusive ? !(value < max) : !(value <= max))) return false;
  return true;
}

/**
 * Why a count past MAX_COUNT is refused, or null when `value` is not such a count (then the rule
 * in words says it).
 */
export function overCount(value: unknown, rule: NumberRule): string | null {
  return rule.max === MAX_COUNT && Number.isFinite(value) && (value as number) > MAX_COUNT
    ? `more than ${MAX_COUNT}, the largest count doconv takes`
    : null;
}

/** Throws "NAME must be RULE, got VALUE" unless `rule` accepts `value`. */
export function checkNumber(name: string, value: unknown, rule: NumberRule): number {
  const tooMany = overCount(value, rule);
  if (tooMany !== null) {
    throw new OptionError(name, (n) => `${n(name)} ${showValue(value)} is ${tooMany}`);
  }
  if (!satisfies(value, rule)) {
    throw new OptionError(
      name,
      (n) => `${n(name)} must be ${describeRule(rule)}, got ${showValue(value)}`,
    );
  }
  return value;
}

/** Rules used by several options. */
/** A count: 1 … MAX_COUNT. */
export const POSITIVE_INT: NumberRule = { integer: true, min: 1, max: MAX_COUNT };
/**
 * Runs of a comparison: each trains a model, and their seeds are listed up front (2^31 of them
 * ran out of memory listing them); ten thousand is days of training of the smallest net here.
 */
export const RUN_COUNT: NumberRule = { integer: true, min: 1, max: 10_000 };
export const INTEGER: NumberRule = { integer: true };
export const POSITIVE_NUMBER: NumberRule = { min: 0, minExclusive: true };
export const NON_NEGATIVE_NUMBER: NumberRule = { min: 0 };
