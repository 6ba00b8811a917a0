/**
 * For the native engine's tests: the wasm backend with doconv's kernels, and whether the addon
 * is built. Tests skip (with the reason in their name) when it is not, so a machine without
 * oneDNN stays green; CI builds it (.ci/run) so both paths run there.
 */
import './wasmSetup.js';
import { nativeAddonStatus } from '../../src/engine/native/nativeAddon.js';

const status = nativeAddonStatus();
/** The addon, or null. */
export const addon = status.addon;
/** Appended to describe() names so a skipped run says why. */
export const skipReason =
  addon == null ? ` (SKIPPED: native addon ${status.reason}; run npm run build:native)` : '';
