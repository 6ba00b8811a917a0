/**
 * Vite plugin: copies @tensorflow/tfjs-backend-wasm's three .wasm binaries (plain, SIMD, threaded
 * SIMD) into the site (web/dist/wasm/), so the page calls setWasmPaths on its own origin and never
 * reaches a CDN. The dev server serves the same files from node_modules.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';
import { WASM_DIR } from '../src/siteFiles.js';

const BINARIES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

export function wasmBinaries(): Plugin {
  const read = (name: string) => readFileSync(join(wasmDistDir(), name));
  return {
    name: 'doconv-wasm-binaries',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0].replace(/^\//, '');
        const name = path.startsWith(WASM_DIR) ? path.slice(WASM_DIR.length) : '';
        if (!BINARIES.includes(name)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        res.end(read(name));
      });
    },
    generateBundle() {
      for (const name of BINARIES) {
        this.emitFile({ type: 'asset', fileName: WASM_DIR + name, source: read(name) });
      }
    },
  };
}
