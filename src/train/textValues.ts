/**
 * Reading option values from text (command-line flags): each parser returns the value or throws a
 * ValueParseError naming the text. The CLI turns that error into commander's, which adds the flag:
 * "option '--epochs <n>' argument 'x' is invalid. "x" is not a positive integer."
 */
import * as fs from 'node:fs';

/** A text that does not read as the value asked for; the message names the text. */
export class ValueParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueParseError';
  }
}

export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new ValueParseError(`${JSON.stringify(text)} is not a positive integer.`);
  }
  return n;
}

export function parseInteger(text: string): number {
  const n = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(n)) {
    throw new ValueParseError(`${JSON.stringify(text)} is not an integer.`);
  }
  return n;
}

export function parsePositiveNumber(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new ValueParseError(`${JSON.stringify(text)} is not a positive number.`);
  }
  return n;
}

export function parseNonNegativeNumber(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new ValueParseError(`${JSON.stringify(text)} is not a number ≥ 0.`);
  }
  return n;
}

/** "100,150" → [100, 150]. */
export function parsePositiveNumberList(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '' || !(Number(p) > 0) || !Number.isFinite(Number(p)))) {
    throw new ValueParseError(
      `${JSON.stringify(text)} is not a comma-separated list of positive numbers.`,
    );
  }
  return parts.map(Number);
}

/** "1,2,3" → [1, 2, 3]. */
export function parseIntegerList(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^-?\d+$/.test(p))) {
    throw new ValueParseError(`${JSON.stringify(text)} is not a comma-separated list of integers.`);
  }
  return parts.map(Number);
}

/** An existing folder, returned as given. */
export function parseExistingDir(text: string): string {
  let ok = false;
  try {
    ok = fs.statSync(text).isDirectory();
  } catch {
    throw new ValueParseError(`${JSON.stringify(text)}: no such folder.`);
  }
  if (!ok) throw new ValueParseError(`${JSON.stringify(text)} is not a folder.`);
  return text;
}
