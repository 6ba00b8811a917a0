/**
 * Loads doconv's native engine (native/build/doconv_native.node, built by `npm run build:native`).
 * Returns null when it is not built or cannot load (no oneDNN at run time): callers fall back to wasm.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const addonPath = fileURLToPath(new URL('./build/doconv_native.node', import.meta.url));

let cached;
/** @returns {{addon: object|null, error: string|null}} */
export function loadNativeAddon() {
  if (cached !== undefined) return cached;
  if (!existsSync(addonPath)) {
    cached = { addon: null, error: 'not built' };
  } else {
    try {
      cached = { addon: require(addonPath), error: null };
    } catch (e) {
      cached = { addon: null, error: String(e?.message ?? e) };
    }
  }
  return cached;
}

export const CONV_GEOM_FIELDS = 20;
export const ACTIVATIONS = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, elu: 4, sigmoid: 5 };

/** The Int32Array the addon's conv kernels take (native/src/conv.h: ConvGeom). */
export function convGeometry(g) {
  return Int32Array.from([
    g.n, g.h, g.w, g.ci, g.oh, g.ow, g.co, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw,
    g.pt, g.pb, g.pl, g.pr, g.groups ?? 1, g.hasBias ? 1 : 0, g.act ?? 0,
  ]);
}
