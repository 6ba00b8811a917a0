/**
 * The one argument-validation layer of the trainer and the CLI: number rules (integer?, bounds) that
 * both read a flag's text and check a value handed to the library, and `showValue`, which prints
 * NaN and ±Infinity as such (JSON.stringify prints them as null).
 *
 * Text parsers return the value or throw a ValueParseError naming the text; the CLI turns that into
 * commander's error, which adds the flag: "option '--lr <rate>' argument 'NaN' is invalid. "NaN" is
 * not a number in (0, 10]." Library checks throw "lr must be a number in (0, 10], got NaN".
 */
import * as fs from 'node:fs';

/** A text that does not read as the value asked for; the message names the text. */
export class ValueParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueParseError';
  }
}

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

/** A rule in words: "a positive integer", "a number ≥ 0", "a number in (0, 10]". */
export function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? 'integer' : 'number';
  const { min, max } = rule;
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

/** Throws "NAME must be RULE, got VALUE" unless `rule` accepts `value`. */
export function checkNumber(name: string, value: unknown, rule: NumberRule): number {
  if (!satisfies(value, rule)) {
    throw new Error(`${name} must be ${describeRule(rule)}, got ${showValue(value)}`);
  }
  return value;
}

const INTEGER_TEXT = /^\s*[-+]?\d+\s*$/;
const DECIMAL_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i;

/** A text parser for numbers `rule` accepts ("NaN", "Infinity", "", "0x10" and "1e999" are not). */
export function numberParser(rule: NumberRule): (text: string) => number {
  return (text) => {
    const n = Number(text);
    const readable = (rule.integer ? INTEGER_TEXT : DECIMAL_TEXT).test(text);
    if (!readable || !satisfies(n, rule)) {
      throw new ValueParseError(`${JSON.stringify(text)} is not ${describeRule(rule)}.`);
    }
    return n;
  };
}

/** Rules used by several options. */
export const POSITIVE_INT: NumberRule = { integer: true, min: 1 };
export const INTEGER: NumberRule = { integer: true };
export const POSITIVE_NUMBER: NumberRule = { min: 0, minExclusive: true };
export const NON_NEGATIVE_NUMBER: NumberRule = { min: 0 };

export const parsePositiveInt = numberParser(POSITIVE_INT);
export const parseInteger = numberParser(INTEGER);
export const parsePositiveNumber = numberParser(POSITIVE_NUMBER);
export const parseNonNegativeNumber = numberParser(NON_NEGATIVE_NUMBER);

/** "100,150" → [100, 150]. */
export function parsePositiveNumberList(text: string): number[] {
  const parts = text.split(',');
  const read = numberParser(POSITIVE_NUMBER);
  try {
    return parts.map(read);
  } catch {
    throw new ValueParseError(
      `${JSON.stringify(text)} is not a comma-separated list of positive numbers.`,
    );
  }
}

/** "1,2,3" → [1, 2, 3]. */
export function parseIntegerList(text: string): number[] {
  try {
    return text.split(',').map(parseInteger);
  } catch {
    throw new ValueParseError(`${JSON.stringify(text)} is not a comma-separated list of integers.`);
  }
}

/** A file or folder path: any text but an empty one (which would mean the current folder). */
export function parsePath(text: string): string {
  if (text.trim() === '')
    throw new ValueParseError(`${JSON.stringify(text)} is not a path (it is empty).`);
  return text;
}

/** A file's base name: not empty, no folder separators, not "." or "..". */
export function parseBaseName(text: string): string {
  if (text.trim() === '' || /[/\\]/.test(text) || text === '.' || text === '..') {
    throw new ValueParseError(
      `${JSON.stringify(text)} is not a file name (no folders, not empty).`,
    );
  }
  return text;
}

/** An existing folder, returned as given. */
export function parseExistingDir(text: string): string {
  if (text.trim() === '') throw new ValueParseError('"" is not a folder (the path is empty).');
  let ok = false;
  try {
    ok = fs.statSync(text).isDirectory();
  } catch {
    throw new ValueParseError(`${JSON.stringify(text)}: no such folder.`);
  }
  if (!ok) throw new ValueParseError(`${JSON.stringify(text)} is not a folder.`);
  return text;
}
