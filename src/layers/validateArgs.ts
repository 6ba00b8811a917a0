/** Argument checks shared by the DO layers; every message names the argument and its value. */
import { formatValue } from '../util/formatValue.js';
import { checkFloat32Count } from '../util/sizeLimit.js';

/**
 * D has M·N·dMul·C values; past this multiple of M·N (16× the default) the over-parameterization
 * only costs memory and time (a dMul of 1e6 took 14 s to build), so it is refused.
 */
export const MAX_D_MUL_FACTOR = 16;

/** The args of a DO layer's constructor must be an object (a plain `doConv2d()` is a mistake). */
export function checkArgsObject<T>(layer: string, args: T): T {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new Error(
      `${layer}: args must be an object such as {filters: 8, kernelSize: 3}, got ${formatValue(args)}`,
    );
  }
  const { useBias } = args as { useBias?: unknown };
  if (useBias !== undefined && typeof useBias !== 'boolean') {
    throw new Error(`${layer}: useBias must be true or false, got ${formatValue(useBias)}`);
  }
  return args;
}

export function normalizePair(name: string, value: unknown, fallback: number): [number, number] {
  const raw = value ?? fallback;
  const pair = Array.isArray(raw) ? (raw.length === 1 ? [raw[0], raw[0]] : raw) : [raw, raw];
  if (pair.length !== 2 || !pair.every((v) => Number.isSafeInteger(v) && (v as number) > 0)) {
    throw new Error(
      `${name} must be a positive integer or a pair of them, got ${formatValue(value)}`,
    );
  }
  return pair as [number, number];
}

/** A positive safe integer (1e300 is an integer to JavaScript, but no size). */
export function positiveInt(name: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) {
    throw new Error(`${name} must be a positive integer, got ${formatValue(value)}`);
  }
  return value as number;
}

/** The depth multiplier of D from the `dMul` given (any spelling already read: kerasSpelling.ts). */
export function resolveDMul(value: number | undefined, kernelArea: number): number {
  if (kernelArea === 1) {
    // A 1×1 kernel has no D; the official code forces D_mul = 1.
    if (value != null && value !== 1) {
      throw new Error(`dMul must be 1 for a 1×1 kernel (it has no D), got ${formatValue(value)}`);
    }
    return 1;
  }
  if (value == null) return kernelArea;
  const dMul = positiveInt('dMul', value);
  if (dMul > MAX_D_MUL_FACTOR * kernelArea) {
    throw new Error(
      `dMul must be at most ${MAX_D_MUL_FACTOR}·M·N = ${MAX_D_MUL_FACTOR * kernelArea} (D holds M·N·dMul·C values), ` +
        `got ${formatValue(value)}`,
    );
  }
  if (dMul < kernelArea) {
    // Paper, Prop. 3: with D_mul < M·N the composition cannot express every conv kernel.
    throw new Error(
      `dMul must be at least the kernel area M·N = ${kernelArea} (smaller loses expressiveness), ` +
        `got ${formatValue(value)}`,
    );
  }
  return dMul;
}

export function checkDilationWithStrides(
  strides: [number, number],
  dilation: [number, number],
): void {
  if ((strides[0] > 1 || strides[1] > 1) && (dilation[0] > 1 || dilation[1] > 1)) {
    throw new Error(
      `strides ${formatValue(strides)} > 1 cannot be combined with dilationRate ` +
        `${formatValue(dilation)} > 1 (TF.js convolutions reject it)`,
    );
  }
}

export function checkChannelsLast(dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'channelsLast') {
    throw new Error(`dataFormat must be 'channelsLast', got ${formatValue(dataFormat)}`);
  }
}

export function checkPadding(padding: unknown): 'same' | 'valid' {
  const value = padding ?? 'valid';
  if (value !== 'same' && value !== 'valid') {
    throw new Error(`padding must be 'same' or 'valid', got ${formatValue(padding)}`);
  }
  return value;
}

/** Output length of a conv along one axis (null stays null). */
export function convOutputLength(
  length: number | null,
  kernel: number,
  padding: 'same' | 'valid',
  stride: number,
  dilation: number,
): number | null {
  if (length == null) return null;
  const extent = (kernel - 1) * dilation + 1;
  const covered = padding === 'same' ? length : length - extent + 1;
  return Math.ceil(covered / stride);
}

/**
 * Refuses a weight whose shape holds more float32 values than the size cap allows
 * (util/sizeLimit.ts), before it is allocated: `layer` names the layer, `args` the args that sized
 * it ("filters 1000000000, dMul 9, input channels 3").
 */
export function checkWeightShape(
  layer: string,
  weight: string,
  shape: number[],
  args: string,
): void {
  const elements = shape.reduce((a, b) => a * b, 1);
  checkFloat32Count(layer, elements, `weight '${weight}' ${formatValue(shape)} (${args})`);
}
