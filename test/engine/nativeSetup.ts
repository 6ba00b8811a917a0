/**
 * For the native engine's tests: the wasm backend with doconv's kernels, and whether the addon
 * is built. Tests skip (with the reason in their name) when it is not, so a machine without
 * oneDNN stays green; CI builds it (.ci/run) so both paths run there.
 */
import './wasmSetup.js';
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
