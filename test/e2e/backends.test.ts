/**
 * DO-Conv on the browser's GPU backends, in Debian's chromium on SwiftShader (WebGL through ANGLE,
 * WebGPU through its Vulkan): a small DO-Conv / DO-DConv / DO-GConv net's forward pass, the
 * gradients for its input and every weight, its weights after 5 Adam steps and its folded model's
 * output on webgl and on webgpu, each against the same computation on tfjs's cpu backend in the
 * same page (backendCheck/page.ts, bundled here with esbuild). Numbers: test-output/e2e-backends.json
 * (beside test-output/e2e/, which the playground test empties).
 */
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from './browser.js';
import { serveStatic, type StaticServer } from './staticServer.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SITE = join(ROOT, 'test-output', 'e2e-backends-site');
/** SwiftShader's float32 differs from the cpu backend's by ≤ 6e-7 here (2026-12-06); 1e-5 × scale. */
const TOLERANCE = 1e-5;

type CheckResult = Record<string, number[]>;
let server: StaticServer;
let browser: LaunchedBrowser;
let page: Page;
let cpu: CheckResult;
const summary: Record<string, unknown> = {};

const call = <T>(fn: string, ...args: unknown[]): Promise<T> =>
  page.evaluate(
    ([name, a]) => (globalThis as unknown as Record<string, (...x: unknown[]) => T>)[name](...a),
    [fn, args] as const,
  );

beforeAll(async () => {
  rmSync(SITE, { recursive: true, force: true });
  await build({
    entryPoints: [join(import.meta.dirname, 'backendCheck', 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(SITE, 'page.js'),
    logLevel: 'error',
  });
  writeFileSync(
    join(SITE, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>doconv on GPU backends</title><script type="module" src="page.js"></script>\n',
  );
  server = await serveStatic(SITE);
  browser = await launchChromium('gpu');
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(server.url);
  await page.waitForFunction(() => 'runDoConvChecks' in globalThis);
  cpu = await call<CheckResult>('runDoConvChecks', 'cpu');
}, 300_000);

afterAll(async () => {
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
  writeFileSync(
    join(ROOT, 'test-output', 'e2e-backends.json'),
    JSON.stringify(summary, null, 2) + '\n',
  );
  await browser?.close();
  await server?.close();
});

describe('DO-Conv on the GPU backends vs cpu (headless chromium, SwiftShader)', () => {
  it('the browser offers webgl and webgpu', async () => {
    summary.webgpuAdapter = await call<string>('describeWebgpu');
    expect(await call<string[]>('availableBackends')).toEqual(['cpu', 'webgl', 'webgpu']);
  });

  it('the cpu reference is not trivial: outputs, gradients and Adam steps are non-zero', () => {
    const maxAbs = (k: string) => Math.max(...cpu[k].map(Math.abs));
    expect(Object.keys(cpu).filter((k) => k.startsWith('grad weight'))).toHaveLength(11);
    for (const k of Object.keys(cpu)) expect(maxAbs(k), k).toBeGreaterThan(1e-4);
  });

  for (const backend of ['webgl', 'webgpu']) {
    it(`${backend}: forward, gradients, 5 Adam steps and the folded model match cpu`, async () => {
      const got = await call<CheckResult>('runDoConvChecks', backend);
      expect(Object.keys(got)).toEqual(Object.keys(cpu));
      const worst: Record<string, number> = {};
      for (const [k, want] of Object.entries(cpu)) {
        expect(got[k], k).toHaveLength(want.length);
        const scale = Math.max(1, ...want.map(Math.abs));
        worst[k] = Math.max(...want.map((v, i) => Math.abs(v - got[k][i]))) / scale;
      }
      summary[backend] = worst;
      const over = Object.entries(worst).filter(([, d]) => !(d <= TOLERANCE));
      expect(over, `max |Δ| / max(1, max |cpu|) above ${TOLERANCE}`).toEqual([]);
      // Folding is exact on the backend itself too.
      const foldGap = Math.max(
        ...got['folded forward'].map((v, i) => Math.abs(v - got['trained forward'][i])),
      );
      expect(foldGap).toBeLessThan(1e-5);
    });
  }
});

/**
 * dist/doconv.min.js (npm run build: scripts/buildScriptTag.mjs) after tfjs's own tf.min.js, as a
 * page without a bundler loads them: the global `doconv` builds DO layers on the global `tf`, and
 * the folded model computes what the DO-Conv model does.
 */
describe('the <script> build (dist/doconv.min.js after tf.min.js)', () => {
  const site = join(ROOT, 'test-output', 'e2e-script-tag-site');
  const bundle = join(ROOT, 'dist', 'doconv.min.js');

  it('defines doconv on the page: DO layers on the global tf, folded to the same outputs', async () => {
    if (!existsSync(bundle)) throw new Error(`${bundle} is not built: run npm run build`);
    rmSync(site, { recursive: true, force: true });
    mkdirSync(site, { recursive: true });
    copyFileSync(
      join(ROOT, 'node_modules/@tensorflow/tfjs/dist/tf.min.js'),
      join(site, 'tf.min.js'),
    );
    copyFileSync(bundle, join(site, 'doconv.min.js'));
    writeFileSync(
      join(site, 'index.html'),
      '<!doctype html><meta charset="utf-8"><title>doconv script tag</title>' +
        '<script src="tf.min.js"></script><script src="doconv.min.js"></script>\n',
    );
    const tagServer = await serveStatic(site);
    try {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(tagServer.url);
      /* eslint-disable @typescript-eslint/no-explicit-any -- the page's globals tf and doconv come from
         script tags, untyped here */
      const r = await page.evaluate(async () => {
        const g = globalThis as unknown as Record<string, any>;
        const { tf, doconv } = g;
        await tf.setBackend('cpu');
        const model = tf.sequential({
          layers: [
            doconv.doConv2d({ filters: 3, kernelSize: 3, inputShape: [6, 6, 2] }),
            doconv.doDepthwiseConv2d({ kernelSize: 3 }),
          ],
        });
        // Random D: an identity D would fold trivially.
        model.setWeights(
          model.getWeights().map((w: any) => tf.randomNormal(w.shape, 0, 0.3, 'float32', 1)),
        );
        const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 2);
        const folded = doconv.foldModel(model);
        const diff = (await tf.max(tf.abs(tf.sub(model.predict(x), folded.predict(x)))).data())[0];
        return {
          diff,
          doLayers: model.layers.map((l: any) => l.getClassName()),
          foldedLayers: folded.layers.map((l: any) => l.getClassName()),
          exports: Object.keys(doconv).length,
        };
      });
      /* eslint-enable @typescript-eslint/no-explicit-any */
      expect(errors).toEqual([]);
      expect(r.doLayers).toEqual(['DOConv2D', 'DODepthwiseConv2D']);
      expect(r.foldedLayers).toEqual(['Conv2D', 'DepthwiseConv2D']);
      expect(r.diff).toBeLessThan(1e-5);
      expect(r.exports).toBeGreaterThan(20);
      summary.scriptTag = r;
    } finally {
      await tagServer.close();
    }
  });
});
