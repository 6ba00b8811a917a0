#!/usr/bin/env node
/**
 * npm run build:native — compiles doconv's native training engine (native/src/*.cc →
 * native/build/doconv_native.node) against oneDNN 2.x. Called by `npm run build:native` and, in a
 * checkout, by npm's install hook; it never fails an install: without a compiler, Node's headers
 * or oneDNN it prints one line saying what is missing and exits 0 (doconv then runs on wasm).
 * `--strict` exits 1 instead (CI uses it so a broken build is seen).
 *
 * Plain compiler calls rather than node-gyp: no download of Node headers (they come from the
 * running Node's install prefix, or NODE_INCLUDE), no npm dependency, and the link line stays
 * readable. Environment: CXX (default g++ / clang++ on macOS), DNNL_ROOT (prefix holding
 * include/oneapi/dnnl and lib), NODE_INCLUDE, DOCONV_NATIVE_PORTABLE=1 (baseline ISA).
 * `--out FILE` writes the addon elsewhere and `--rpath DIR` replaces the run path to oneDNN
 * (native/package.mjs builds the prebuilt platform package with `--rpath '$ORIGIN'`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const strict = process.argv.includes('--strict');
const flag = (name) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const out = path.resolve(flag('--out') ?? path.join(here, 'build', 'doconv_native.node'));

function giveUp(reason) {
  console.log(
    `doconv: native engine not built (${reason}); training runs on wasm. To enable it: ` +
      'Debian/Ubuntu `sudo apt-get install libdnnl-dev g++`, macOS `brew install onednn`, then `npx doconv build-native` (in a checkout: `npm run build:native`).',
  );
  process.exit(strict ? 1 : 0);
}

const isMac = process.platform === 'darwin';
if (process.platform === 'win32') giveUp('Windows builds are not supported yet');
const cxx = process.env.CXX ?? (isMac ? 'clang++' : 'g++');
if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0)
  giveUp(`no C++ compiler '${cxx}'`);

const nodeInclude = [
  process.env.NODE_INCLUDE,
  path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].find((p) => p != null && existsSync(path.join(p, 'node_api.h')));
if (nodeInclude == null) giveUp("Node's headers (node_api.h) not found; set NODE_INCLUDE");

const dnnlRoots = [
  process.env.DNNL_ROOT,
  '/usr',
  '/usr/local',
  '/opt/homebrew',
  '/opt/homebrew/opt/onednn',
  '/usr/local/opt/onednn',
];
const dnnlRoot = dnnlRoots.find(
  (p) => p != null && existsSync(path.join(p, 'include', 'oneapi', 'dnnl', 'dnnl.hpp')),
);
if (dnnlRoot == null) giveUp('oneDNN headers (oneapi/dnnl/dnnl.hpp) not found; set DNNL_ROOT');

const sources = readdirSync(path.join(here, 'src'))
  .filter((f) => f.endsWith('.cc'))
  .map((f) => path.join(here, 'src', f));
mkdirSync(path.dirname(out), { recursive: true });
const tmp = `${out}.tmp-${process.pid}`;
// Tuned for this machine's CPU (the addon is built where it runs); DOCONV_NATIVE_PORTABLE=1 builds
// for the baseline ISA instead, e.g. for an image built on one machine and run on others.
const march = process.env.DOCONV_NATIVE_PORTABLE === '1' || isMac ? [] : ['-march=native'];
const args = [
  '-std=c++17',
  '-O3',
  ...march,
  '-fPIC',
  '-shared',
  '-fvisibility=hidden',
  '-fopenmp',
  // No fused multiply-add unless the source asks: the optimizer updates must round each operation
  // as the wasm kernels and TF.js ops do (native/src/optimizer.h).
  '-ffp-contract=off',
  // No errno from math functions (nothing reads it): with it, std::sqrt keeps a scalar call path
  // for negative inputs, which stopped Adam's loop from vectorising (~3.5 ns an element; the MNIST
  // samples' update took ~25 µs of a ~2 ms step). IEEE sqrt and division round alike either way.
  '-fno-math-errno',
  `-I${nodeInclude}`,
  `-I${path.join(dnnlRoot, 'include')}`,
  ...sources,
  '-o',
  tmp,
  `-L${path.join(dnnlRoot, 'lib')}`,
  `-Wl,-rpath,${flag('--rpath') ?? path.join(dnnlRoot, 'lib')}`,
  '-ldnnl',
  ...(isMac ? ['-undefined', 'dynamic_lookup'] : []),
];
console.log(`doconv: building the native engine with ${cxx} (oneDNN from ${dnnlRoot}) …`);
const r = spawnSync(cxx, args, { stdio: 'inherit' });
if (r.status !== 0) giveUp(`${cxx} failed (exit ${r.status}); the compiler's message is above`);
renameSync(tmp, out);
console.log(`doconv: native engine built: ${path.relative(process.cwd(), out)}`);
