/**
 * Reading flag text: number parsers by the library's number rules (src/train/numberRules.ts), so a
 * flag accepts exactly what the library accepts, and the parsers of lists, paths and names. Each
 * returns the value or throws a ValueParseError naming the text; the CLI turns that into commander's
 * error, which adds the flag: "option '--lr <rate>' argument 'NaN' is invalid. "NaN" is not a
 * number in (0, 10]."
 */
import * as fs from 'node:fs';
import {
  describeRule,
  INTEGER,
  NON_NEGATIVE_NUMBER,
  type NumberRule,
  overCount,
  POSITIVE_INT,
  POSITIVE_NUMBER,
  satisfies,
} from '../train/numberRules.js';

/** A text that does not read as the value asked for; the message names the text. */
export class ValueParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueParseError';
  }
}

// Integers are digits only (a minus where the rule allows negatives): "+5" and " 5" are refused,
// as docs/cli.md says. Decimals take no surrounding spaces either.
const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** A text parser for numbers `rule` accepts ("NaN", "Infinity", "", "0x10" and "1e999" are not). */
export function numberParser(rule: NumberRule): (text: string) => number {
  return (text) => {
    const n = Number(text);
    const readable = (rule.integer ? INTEGER_TEXT : DECIMAL_TEXT).test(text);
    const tooMany = readable ? overCount(n, rule) : null;
    if (tooMany !== null) throw new ValueParseError(`${JSON.stringify(text)} is ${tooMany}.`);
    if (!readable || !satisfies(n, rule)) {
      throw new ValueParseError(`${JSON.stringify(text)} is not ${describeRule(rule)}.`);
    }
    return n;
  };
}

export const parsePositiveInt = numberParser(POSITIVE_INT);
export const parseInteger = numberParser(INTEGER);
export const parsePositiveNumber = numberParser(POSITIVE_NUMBER);
export const parseNonNegativeNumber = numberParser(NON_NEGATIVE_NUMBER);

/** '32' → [32, 32]; '24x32' (height × width) → [24, 32]. */
export function parseImageSize(text: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[x×]\s*(\d+)\s*)?$/i.exec(text);
  const h = m ? Number(m[1]) : NaN;
  const w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(h >= 1 && w >= 1 && h <= 65535 && w <= 65535)) {
    throw new ValueParseError(
      `expected N or HxW in pixels (e.g. 32 or 24x32), got ${JSON.stringify(text)}`,
    );
  }
  return [h, w];
}

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
