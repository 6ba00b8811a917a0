/**
 * For the native engine's tests: the backend its kernels run on here, and whether the addon is
 * built. Tests skip (with the reason in their name) when it is not, so a machine without oneDNN
 * stays green; CI builds it (.ci/run) so both paths run there.
 *
 * NATIVE_HOST: 'doconv-native' (tensors in native memory, the default) or, with
 * DOCONV_NATIVE_HOST=wasm, the native-on-wasm engine (its kernels over wasm's heap).
 */
import './wasmSetup.js';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  disableNativeEngine,
  enableNativeBackendEngine,
  enableNativeEngine,
} from '../../src/engine/native/enableNative.js';
import { nativeAddonStatus } from '../../src/engine/native/nativeAddon.js';
import { registerNativeBackend } from '../../src/engine/native/registerNativeBackend.js';

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

/** The backend the native kernels run on in this test run. */
export const NATIVE_HOST: 'doconv-native' | 'wasm' =
  process.env.DOCONV_NATIVE_HOST === 'wasm' ? 'wasm' : 'doconv-native';

/** describe, or describe.skip when the addon is not there (name your describes with skipReason). */
export const describeNative: ReturnType<typeof describe.skipIf> = describe.skipIf(addon == null);

/**
 * The native engine on `host` (registering the doconv-native backend when that is the host).
 * Returns whether it is on.
 */
export function startNativeEngine(host: 'doconv-native' | 'wasm' = NATIVE_HOST): boolean {
  if (host === 'wasm') return enableNativeEngine().on;
  const on = enableNativeBackendEngine().on;
  if (on) registerNativeBackend();
  return on;
}

/** For a file of native-engine tests: NATIVE_HOST with the native kernels on, off after. */
export function nativeEngineForThisFile(): void {
  beforeAll(async () => {
    if (addon == null) return;
    expect(startNativeEngine()).toBe(true);
    await tf.setBackend(NATIVE_HOST);
  });
  afterAll(() => disableNativeEngine());
}
