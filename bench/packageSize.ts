/**
 * npm run bench:size — what doconv costs an app: install size and browser bundle size.
 *
 * Packs the repository (built: `npm run build` first), installs the tarball offline into a fresh app
 * beside @tensorflow/tfjs (test/pack/packedApp.ts), and measures
 * - `du -sk node_modules` of that app, and of an app with @tensorflow/tfjs alone; the platform
 *   package (npm/<target>, the prebuilt native engine) packed and installed with it when built;
 * - an esbuild bundle (browser, ESM, minified) of the README's browser snippet, and of a one-line
 *   app importing @tensorflow/tfjs alone; bytes and gzip bytes.
 * Writes results/size-<date>.json. Not a test: never asserts.
 *
 *   npx tsx bench/packageSize.ts [--repo DIR] [--label NAME]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { installPackedApp } from '../test/pack/packedApp.js';
import { repoSnippets } from '../test/readme/snippets.js';

const here = resolve(import.meta.dirname, '..');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const repo = resolve(arg('--repo') ?? here);
const label = arg('--label') ?? 'current';
const work = join(os.tmpdir(), `doconv-size-${process.pid}`);

const duKiB = (dir: string) =>
  Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);

async function bundle(dir: string, name: string, code: string) {
  const entry = join(dir, `${name}.ts`);
  writeFileSync(entry, code);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const bytes = result.outputFiles[0].contents;
  return { bytes: bytes.length, gzipBytes: gzipSync(bytes).length };
}

rmSync(work, { recursive: true, force: true });
const app = installPackedApp(repo, join(work, 'doconv'));
const tfOnly = installPackedApp(repo, join(work, 'tfjs-only'), [], { withDoconv: false }).dir;
const browserSnippet = repoSnippets(here).find((s) => s.kind === 'browser')!;
const report = {
  command: `npx tsx bench/packageSize.ts ${process.argv.slice(2).join(' ')}`.trim(),
  label,
  date: new Date().toISOString(),
  machine: { platform: process.platform, node: process.version, cpus: os.cpus().length },
  tarballBytes: readFileSync(app.tarball).length,
  // This machine's prebuilt native engine package (npm/<target>, when built), installed with doconv.
  platformTarballBytes: app.platformTarball ? readFileSync(app.platformTarball).length : null,
  install: {
    withDoconvKiB: duKiB(join(app.dir, 'node_modules')),
    platformPackageKiB: app.platformTarball ? duKiB(join(app.dir, 'node_modules/@doconv')) : null,
    tfjsAloneKiB: duKiB(join(tfOnly, 'node_modules')),
  },
  bundle: {
    withDoconv: await bundle(app.dir, 'browserSnippet', browserSnippet.code),
    tfjsAlone: await bundle(
      app.dir,
      'tfjsAlone',
      "import * as tf from '@tensorflow/tfjs';\nconsole.log(tf.version);\n",
    ),
  },
};
console.log(JSON.stringify(report, null, 2));
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `size-${label}.json`), JSON.stringify(report, null, 2) + '\n');
rmSync(work, { recursive: true, force: true });
