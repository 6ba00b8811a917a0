/**
 * For the native engine's tests: the wasm backend with doconv's kernels, and whether the addon
 * is built. Tests skip (with the reason in their name) when it is not, so a machine without
 * oneDNN stays green; CI builds it (.ci/run) so both paths run there.
 */
import './wasmSetup.js';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { disableNativeEngine, enableNativeEngine } from '../../src/engine/native/enableNative.js';
import { nativeAddonStatus } from '../../src/engine/native/nativeAddon.js';

const status = nativeAddonStatus();
// The CI lane that runs the suite on the portable engine sets this.
const disabled = process.env.DOCONV_ENGINE === 'wasm';
/** The addon, or null (not built, not loadable, or the engine disabled). */
export const addon = disabled ? null : status.addon;
/** Appended to describe() names so a skipped run says why. */
export const skipReason =
  addon != null
    ? ''
    : disabled
      ? ' (SKIPPED: native engine disabled by DOCONV_ENGINE=wasm)'
      : ` (SKIPPED: native addon ${status.reason}; run npm run build:native)`;

/** describe, or describe.skip when the addon is not there (name your describes with skipReason). */
export const describeNative: ReturnType<typeof describe.skipIf> = describe.skipIf(addon == null);

/** For a file of native-engine tests: wasm with the native kernels on for its tests, off after. */
export function nativeEngineForThisFile(): void {
  beforeAll(async () => {
    if (addon == null) return;
    await tf.setBackend('wasm');
    expect(enableNativeEngine().on).toBe(true);
  });
  afterAll(() => disableNativeEngine());
}
