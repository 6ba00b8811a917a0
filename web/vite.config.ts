/**
 * The playground's build: a static site in web/dist (`npm run build:web`), served by `npm run web`.
 * Everything it needs is in that folder (code, MNIST subset, wasm binaries): it works offline.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { mnistSubset } from './build/mnistSubset.js';
import { wasmBinaries } from './build/wasmBinaries.js';
import { MNIST_SUBSET } from './src/siteFiles.js';

// Cross-origin isolation lets the wasm backend use its threaded SIMD binary (SharedArrayBuffer);
// served without these headers, the page falls back to single-threaded SIMD.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [mnistSubset(MNIST_SUBSET), wasmBinaries()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // tfjs (core, layers, webgl, cpu, wasm) is one ~1.5 MB chunk by nature; no point warning about it.
    chunkSizeWarningLimit: 3000,
    // tfjs-backend-wasm starts its pthread workers from `factory.toString()`, text that must still
    // read `typeof _scriptDir !== "undefined"` (the name is not defined in the worker). Compression
    // rewrites that test and mangling renames the variable, and then every worker dies with a
    // ReferenceError and the threaded backend never becomes ready. Whitespace and local names elsewhere
    // are still minified (about 6% bigger than full minification).
    rolldownOptions: {
      output: { minify: { compress: false, mangle: { reserved: ['_scriptDir'] } } },
    },
  },
  server: { headers: isolation },
  preview: { headers: isolation, host: '127.0.0.1' },
});
