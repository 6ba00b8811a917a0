#!/usr/bin/env node
/**
 * dist/doconv.min.js — doconv for a `<script>` tag after tfjs's own (tf.min.js): one minified IIFE
 * that reads tfjs from the page's global `tf` and defines the global `doconv` (the browser-safe
 * root, as `import … from 'doconv'`). Bundled from dist/index.js after tsc (`npm run build`), so
 * package.json's sideEffects keep the kernel registration. esbuild is a devDependency: this runs
 * when the package is built, never on install.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** `import … from '@tensorflow/tfjs'` → the page's `tf` (tfjs's script-tag bundle defines it). */
const tfFromGlobal = {
  name: 'tf-from-global',
  setup(b) {
    b.onResolve({ filter: /^@tensorflow\/tfjs$/ }, () => ({ path: 'tf', namespace: 'tf-global' }));
    b.onLoad({ filter: /.*/, namespace: 'tf-global' }, () => ({
      contents:
        "if (typeof globalThis.tf === 'undefined') throw new Error('doconv.min.js: load @tensorflow/tfjs (tf.min.js) before it');\n" +
        'module.exports = globalThis.tf;',
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [path.join(root, 'dist', 'index.js')],
  bundle: true,
  format: 'iife',
  globalName: 'doconv',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  banner: {
    js: '/* doconv — DO-Conv for TensorFlow.js; MIT; needs @tensorflow/tfjs ^4.22 loaded first */',
  },
  plugins: [tfFromGlobal],
  outfile: path.join(root, 'dist', 'doconv.min.js'),
  logLevel: 'warning',
});
