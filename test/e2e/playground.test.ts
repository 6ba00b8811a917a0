/**
 * The playground end to end, in Debian's chromium against the built site (web/dist) on 127.0.0.1:
 * train Conv and DO-Conv, fold, draw, download, and load the download with plain tfjs in Node.
 * Runs three times: on a 1280×900 desktop without a GPU ('auto' must pick wasm: software WebGL is far
 * slower), on a 390×844 touch phone, and on SwiftShader's software WebGL chosen explicitly (skipped,
 * saying so, where this chromium has no WebGL). Besides the numbers it checks what a reader sees:
 * layout boxes (no jump when training starts, untruncated selects, nothing wider than a phone, "Train
 * both" on a phone's first screen), chart labels, and the download's confirmation.
 * Screenshots and a summary: test-output/e2e/.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrowserContext, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DESKTOP,
  PHONE,
  launchChromium,
  type BrowserMode,
  type Device,
  type LaunchedBrowser,
} from './browser.js';
import { loadDownloadedModel, predictDigit } from './loadDownloaded.js';
import {
  drawWithMouse,
  drawWithTouch,
  pageBox,
  readLayout,
  readOfferedBackends,
  readPlaceholders,
  readResult,
  readSeenImage,
  readTop3,
  startTraining,
  waitUntilReady,
  type Layout,
  type TrainResult,
} from './playgroundPage.js';
import { serveStatic, type StaticServer } from './staticServer.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'web', 'dist');
const OUT = join(ROOT, 'test-output', 'e2e');
const MODEL = 'tf-mnist-sample';

/** A "7": top bar, then the diagonal down (pad coordinates 0..1). */
const SEVEN: [number, number][] = [
  [0.3, 0.25],
  [0.7, 0.25],
  [0.45, 0.8],
];
/** A "1" drawn with a finger. */
const ONE: [number, number][] = [
  [0.5, 0.2],
  [0.5, 0.8],
];

let server: StaticServer;
const summary: Record<string, unknown> = {};

beforeAll(async () => {
  if (!existsSync(join(DIST, 'index.html')))
    throw new Error(`${DIST} is not built: run npm run build:web`);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  server = await serveStatic(DIST);
});

afterAll(async () => {
  writeFileSync(join(OUT, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  await server?.close();
});

/** Opens the page in a fresh browser, recording page errors and any request that leaves 127.0.0.1. */
async function open(
  mode: BrowserMode,
  device: Device = DESKTOP,
): Promise<{ launched: LaunchedBrowser; page: Page; errors: string[]; offsite: string[] }> {
  const launched = await launchChromium(mode, device);
  const errors: string[] = [];
  const offsite: string[] = [];
  const context: BrowserContext = launched.context;
  context.on('request', (r) => {
    const url = new URL(r.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.hostname !== '127.0.0.1')
      offsite.push(r.url());
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url + `?model=${MODEL}`);
  return { launched, page, errors, offsite };
}

/**
 * Both curves drawn (at least `minPoints` points: a run stopped after 2 steps has one averaged loss
 * point), both accuracies above `minAccuracy`, and the fold exact to 1e-4.
 */
function checkTraining(
  r: TrainResult,
  steps: number,
  testImages: number,
  minAccuracy: number,
  minPoints = 2,
): void {
  for (const chart of ['loss-chart', 'acc-chart']) {
    for (const series of ['conv', 'doconv'])
      expect(r.curvePoints[`${chart}:${series}`], `${chart} ${series}`).toBeGreaterThanOrEqual(
        minPoints,
      );
  }
  expect(r.curvePoints['loss-chart:conv']).toBeLessThanOrEqual(steps);
  for (const acc of [r.accuracy.conv, r.accuracy.doconv]) {
    expect(acc).toBeGreaterThan(minAccuracy);
    expect(acc).toBeLessThanOrEqual(1);
  }
  expect(r.fold.maxAbsDiff).toBeGreaterThanOrEqual(0);
  expect(r.fold.maxAbsDiff).toBeLessThan(1e-4);
  expect(r.fold.paramsAfter).toBeLessThan(r.fold.paramsBefore);
  // Outputs equal to 1e-4 classify alike: the folded model's accuracy is the DO-Conv model's (a
  // near-tie might still flip one image).
  expect(Math.abs(r.fold.accuracy - r.accuracy.doconv)).toBeLessThanOrEqual(1 / testImages + 1e-9);
}

/** Every select shows its longest option whole (the issue saw "Auto (GPU WebGL, else wasr"). */
function checkSelectsFit(layout: Layout): void {
  for (const sel of layout.selects) {
    expect(sel.scrollWidth, `#${sel.id} scrollWidth`).toBeLessThanOrEqual(sel.clientWidth);
    expect(sel.widestOption, `#${sel.id}: widest option vs room`).toBeLessThanOrEqual(sel.room);
  }
}

/** Before training: no '…' placeholders, the download section names the files it will save. */
async function checkIdlePage(page: Page): Promise<void> {
  const text = await page.evaluate(() => document.body.innerText);
  expect(text).not.toContain('…');
  const download = await page.textContent('section[aria-labelledby="download-h"]');
  expect(download).toContain(`doconv-${MODEL}-folded.json`);
  expect(download).toContain(`doconv-${MODEL}-folded.weights.bin`);
  expect(download).not.toMatch(/(^|[^-.\w])(model\.json|weights\.bin)/);
  expect(await page.locator('svg text.empty').count()).toBe(3); // each chart says what will appear
  // ... without running over the tick labels (the issue saw it across "0.5" / "50%")
  for (const p of await readPlaceholders(page)) {
    expect(p.overlapsAxisText, `${p.chart}: '${p.text}' over an axis label`).toBe(false);
    expect(p.inside, `${p.chart}: '${p.text}' inside the chart`).toBe(true);
  }
  // The captions count the images the form says (the issue saw "1,000" beside a field of 2000).
  const n = Number(await page.inputValue('#test-images')).toLocaleString('en-US');
  expect(await page.textContent('#acc-cap')).toMatch(new RegExp(`of\\s+${n}\\s+test images`));
  expect(await page.textContent('#results-cap')).toMatch(new RegExp(`all\\s+${n}\\s+test images`));
}

/** The results title is whole on screen: not inside the box that scrolls sideways. */
async function checkResultsTitle(page: Page, viewportWidth: number): Promise<void> {
  const title = await pageBox(page, '#results-cap');
  expect(title.x).toBeGreaterThanOrEqual(0);
  expect(title.x + title.width).toBeLessThanOrEqual(viewportWidth);
  expect(await page.$eval('#results-cap', (e) => e.closest('.scroll-x') === null)).toBe(true);
}

/** After training the status line gives the outcome, not just "Done", on the first screen. */
async function checkOutcomeOnFirstScreen(page: Page, viewportHeight: number): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  expect(await page.textContent('#status .outcome')).toMatch(
    /^Done: DO-Conv \d+\.\d %, Conv \d+\.\d % test accuracy \([+−]?\d+\.\d pt\)\.$/,
  );
  expect(await page.textContent('#status')).toMatch(/Folded model: max \|Δ\| \S+ vs DO-Conv\./);
  const outcome = await pageBox(page, '#status .outcome');
  expect(outcome.y + outcome.height).toBeLessThanOrEqual(viewportHeight);
}

/** After training: every line named at its end with its last value, ticks readable, nothing clipped. */
function checkTrainedLayout(layout: Layout): void {
  for (const chart of ['loss-chart', 'acc-chart']) {
    const [conv, doconv] = layout.endLabels[chart] ?? [];
    expect(conv, chart).toMatch(/^Conv \d/);
    expect(doconv, chart).toMatch(/^DO-Conv \d/);
  }
  expect(layout.endLabelsInside).toBe(true);
  expect(layout.endLabels['acc-chart'][0]).toMatch(/^Conv \d+\.\d %$/);
  expect(layout.endLabels['diff-chart']).toEqual([expect.stringMatching(/^[+−]?\d+\.\d pt$/)]);
  expect(layout.yTitles['diff-chart']).toMatch(/DO-Conv ahead/);
  // A zoomed accuracy axis must say so in its title.
  expect(layout.yTitles['acc-chart']).toMatch(/^% correct( · axis zoomed to \d+–\d+ %)?$/);
  expect(layout.smallestTickPx).toBeGreaterThanOrEqual(11);
  expect(layout.pageOverflow).toBeLessThanOrEqual(0);
  expect(layout.table.fits || (layout.table.scrolls && layout.table.hintVisible)).toBe(true);
  expect(layout.codeClipped).toBe(false);
  checkSelectsFit(layout);
}

describe("without a GPU: 'auto' picks wasm", () => {
  const STEPS = 60;
  let s: Awaited<ReturnType<typeof open>>;
  let result: TrainResult;

  beforeAll(async () => {
    s = await open('wasm');
  });
  afterAll(async () => {
    await s?.launched.close();
  });

  it('keyboard focus follows the form: skip link, model, steps, test images, backend, seed, train', async () => {
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      await s.page.keyboard.press('Tab');
      order.push(
        await s.page.evaluate(
          () => document.activeElement?.id || document.activeElement?.className || '',
        ),
      );
    }
    expect(order).toEqual(['skip', 'model', 'steps', 'test-images', 'backend', 'seed', 'train']);
  });

  it('before training: selects untruncated, no placeholders, the real file names', async () => {
    await s.page.screenshot({ path: join(OUT, 'wasm-0-idle.png') });
    checkSelectsFit(await readLayout(s.page));
    await checkIdlePage(s.page);
  });

  it('offers the backends this browser has: no WebGPU without an adapter', async () => {
    // Headless chromium keeps SwiftShader WebGL with --disable-gpu; WebGPU needs its flag on Linux.
    expect(await readOfferedBackends(s.page)).toEqual(['auto', 'webgl', 'wasm', 'cpu']);
    expect(
      await s.page.$$eval('#backend option', (o) => o.map((x) => (x as HTMLOptionElement).value)),
    ).toEqual(['auto', 'webgl', 'wasm', 'cpu']);
  });

  it(`trains Conv and DO-Conv (${STEPS} steps, backend 'auto' picks wasm), folds with max |Δ| < 1e-4`, async () => {
    expect(await s.page.inputValue('#model')).toBe(MODEL);
    const buttonsBefore = [await pageBox(s.page, '#train'), await pageBox(s.page, '#stop')];
    await startTraining(s.page, { steps: STEPS, testImages: 2000, backend: 'auto' });
    await s.page.waitForFunction(() => document.body.dataset.state === 'training', null, {
      timeout: 60_000,
    });
    // The backend line (with its long software-WebGL note) is filled by now; it must not move the buttons.
    expect(await s.page.textContent('#backend-note')).not.toBe('');
    const buttonsDuring = [await pageBox(s.page, '#train'), await pageBox(s.page, '#stop')];
    expect(buttonsDuring).toEqual(buttonsBefore);
    await s.page.screenshot({ path: join(OUT, 'wasm-1-training.png'), fullPage: true });
    await waitUntilReady(s.page, 300_000);
    result = await readResult(s.page);
    summary.wasm = result;
    console.log('wasm run:', JSON.stringify(result));
    expect(result.backend).toMatch(/^wasm \(.*doconv's training kernels\)$/);
    // Headless chromium offers SwiftShader WebGL even with --disable-gpu; 'auto' must not take it.
    summary.wasmNote = await s.page.textContent('#backend-note');
    checkTraining(result, STEPS, 2000, 0.3); // chance is 0.1; 60 steps reach far above
    expect([await pageBox(s.page, '#train'), await pageBox(s.page, '#stop')]).toEqual(
      buttonsBefore,
    );
    const layout = await readLayout(s.page);
    summary.desktopLayout = layout;
    checkTrainedLayout(layout);
    await checkResultsTitle(s.page, DESKTOP.viewport.width);
    await checkOutcomeOnFirstScreen(s.page, DESKTOP.viewport.height);
    await s.page.screenshot({ path: join(OUT, 'wasm-2-trained.png'), fullPage: true });
    await s.page.locator('.charts').screenshot({ path: join(OUT, 'wasm-2-charts.png') });
  });

  it('classifies a mouse drawing with the folded model: top-3 probabilities', async () => {
    await drawWithMouse(s.page, SEVEN);
    await s.page.waitForSelector('#top3 li:nth-child(3)');
    const top3 = await readTop3(s.page);
    expect(top3.digits).toHaveLength(3);
    expect(new Set(top3.digits).size).toBe(3);
    expect(top3.probs[0]).toBeGreaterThanOrEqual(top3.probs[1]);
    expect(top3.probs[1]).toBeGreaterThanOrEqual(top3.probs[2]);
    expect(top3.probs.reduce((a, b) => a + b)).toBeLessThanOrEqual(1 + 1e-6);
    summary.mouseSeven = top3;
    await s.page
      .locator('section[aria-labelledby="draw-h"]')
      .screenshot({ path: join(OUT, 'wasm-3-drawn-mouse.png') });
  });

  it('classifies a touch drawing', async () => {
    await s.page.click('#clear');
    expect(await s.page.locator('#top3 li').count()).toBe(0);
    await drawWithTouch(s.page, ONE);
    await s.page.waitForSelector('#top3 li:nth-child(3)');
    const top3 = await readTop3(s.page);
    summary.touchOne = top3;
    expect(top3.digits).toHaveLength(3);
    await s.page
      .locator('section[aria-labelledby="draw-h"]')
      .screenshot({ path: join(OUT, 'wasm-4-drawn-touch.png') });
  });

  it('"Random test digit" works from the keyboard', async () => {
    await s.page.focus('#sample');
    await s.page.keyboard.press('Space');
    await expect.poll(() => s.page.textContent('#sample-label')).toMatch(/labelled \d/);
    expect(await s.page.locator('#top3 li').count()).toBe(3);
  });

  it('downloads the folded model; plain @tensorflow/tfjs in Node loads it and predicts what the page showed', async () => {
    await s.page.click('#clear');
    await drawWithMouse(s.page, SEVEN);
    await s.page.waitForSelector('#top3 li:nth-child(3)');
    const pageTop3 = await readTop3(s.page);
    const seen = await readSeenImage(s.page);
    expect(seen.some((v) => v > 0)).toBe(true);

    const downloads: Download[] = [];
    s.page.on('download', (d) => downloads.push(d));
    await s.page.click('#download');
    await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(2);
    const dir = join(OUT, 'download');
    mkdirSync(dir, { recursive: true });
    const names = await Promise.all(
      downloads.map(async (d) => {
        await d.saveAs(join(dir, d.suggestedFilename()));
        return d.suggestedFilename();
      }),
    );
    expect(names.sort()).toEqual([
      `doconv-${MODEL}-folded.json`,
      `doconv-${MODEL}-folded.weights.bin`,
    ]);
    // The page confirms, with the names the browser was given.
    await expect
      .poll(() => s.page.textContent('#download-status'))
      .toMatch(
        new RegExp(
          `^Saved doconv-${MODEL}-folded\\.json and doconv-${MODEL}-folded\\.weights\\.bin \\([\\d,]+ kB`,
        ),
      );
    await s.page
      .locator('section[aria-labelledby="download-h"]')
      .screenshot({ path: join(OUT, 'wasm-6-downloaded.png') });

    const { model, layerClasses } = await loadDownloadedModel(
      join(dir, `doconv-${MODEL}-folded.json`),
    );
    expect(layerClasses).toContain('Conv2D');
    expect(layerClasses.filter((c) => c.startsWith('DO'))).toEqual([]);
    expect(model.countParams()).toBe(result.fold.paramsAfter);
    const probs = predictDigit(model, seen, false); // tf-mnist-sample ends in softmax
    const order = probs
      .map((p, d) => [p, d])
      .sort((a, b) => b[0] - a[0])
      .slice(0, 3);
    expect(order.map((o) => o[1])).toEqual(pageTop3.digits);
    order.forEach(([p], i) => expect(Math.abs(p - pageTop3.probs[i])).toBeLessThan(1e-4));
    summary.nodeReload = { pageTop3, nodeTop3: order };
    model.dispose();
  });

  it('is readable on a narrow screen (375 px: nothing wider than the viewport)', async () => {
    await s.page.setViewportSize({ width: 375, height: 800 });
    const overflow = await s.page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    await s.page.screenshot({ path: join(OUT, 'wasm-5-narrow.png'), fullPage: true });
    for (const id of ['train-h', 'fold-h', 'draw-h', 'download-h']) {
      await s.page
        .locator(`section[aria-labelledby="${id}"]`)
        .screenshot({ path: join(OUT, `wasm-5-narrow-${id.slice(0, -2)}.png`) });
    }
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('trains again in the same page and stops early on "Stop"', async () => {
    await s.page.fill('#seed', '2');
    await startTraining(s.page, { steps: 5000, testImages: 500, backend: 'auto' });
    await s.page.waitForFunction(
      () => Number((document.getElementById('progress') as HTMLProgressElement).value) >= 5,
    );
    await s.page.click('#stop');
    await waitUntilReady(s.page, 120_000);
    const steps = await s.page.$eval('#progress', (p) => (p as HTMLProgressElement).value);
    expect(steps).toBeGreaterThanOrEqual(5);
    expect(steps).toBeLessThan(5000);
    expect(await s.page.textContent('#status')).toMatch(/^Done/);
    const r = await readResult(s.page);
    expect(r.fold.maxAbsDiff).toBeLessThan(1e-4);
    expect(await s.page.isDisabled('#download')).toBe(false);
  });

  it('stayed offline and error-free: no request left 127.0.0.1, no page errors', () => {
    expect(s.offsite).toEqual([]);
    expect(s.errors).toEqual([]);
  });
});

describe('on a 390×844 touch phone', () => {
  const STEPS = 30;
  let s: Awaited<ReturnType<typeof open>>;

  beforeAll(async () => {
    s = await open('wasm', PHONE);
  });
  afterAll(async () => {
    await s?.launched.close();
  });

  it('first screen: "Train both" visible, nothing wider than the phone, selects untruncated', async () => {
    await s.page.screenshot({ path: join(OUT, 'phone-1-first-screen.png') });
    const train = await pageBox(s.page, '#train');
    expect(train.y + train.height).toBeLessThanOrEqual(PHONE.viewport.height);
    const layout = await readLayout(s.page);
    expect(layout.pageOverflow).toBeLessThanOrEqual(0);
    checkSelectsFit(layout);
    await checkIdlePage(s.page);
  });

  it(`trains from a tap on "Train both" (${STEPS} steps) without moving it; the results read on the phone`, async () => {
    const before = await pageBox(s.page, '#train');
    await s.page.fill('#steps', String(STEPS));
    await s.page.fill('#test-images', '500');
    await s.page.tap('#train');
    await s.page.waitForFunction(() => document.body.dataset.state === 'training', null, {
      timeout: 60_000,
    });
    expect(await pageBox(s.page, '#train')).toEqual(before);
    await waitUntilReady(s.page, 300_000);
    expect(await pageBox(s.page, '#train')).toEqual(before);
    const result = await readResult(s.page);
    summary.phone = result;
    checkTraining(result, STEPS, 500, 0.2);
    // 500 test images, all measured while training: no "first 500 of 500".
    expect((await s.page.textContent('#acc-cap'))?.replace(/\s+/g, ' ').trim()).toBe(
      'Test accuracy (500 test images)',
    );
    const layout = await readLayout(s.page);
    summary.phoneLayout = layout;
    checkTrainedLayout(layout);
    await checkResultsTitle(s.page, PHONE.viewport.width);
    await s.page.locator('#results-cap').scrollIntoViewIfNeeded();
    await s.page.screenshot({ path: join(OUT, 'phone-3-results-title.png') });
    await checkOutcomeOnFirstScreen(s.page, PHONE.viewport.height);
    await s.page.screenshot({ path: join(OUT, 'phone-2-first-screen-trained.png') });
    await s.page.screenshot({ path: join(OUT, 'phone-2-trained.png'), fullPage: true });
    await s.page.locator('.charts').screenshot({ path: join(OUT, 'phone-2-charts.png') });
  });

  it('classifies a finger drawing', async () => {
    await drawWithTouch(s.page, ONE);
    await s.page.waitForSelector('#top3 li:nth-child(3)');
    expect((await readTop3(s.page)).digits).toHaveLength(3);
  });

  it('stayed offline and error-free', () => {
    expect(s.offsite).toEqual([]);
    expect(s.errors).toEqual([]);
  });
});

describe('software WebGL and WebGPU (SwiftShader)', () => {
  // 10 steps (the form's least) prove the backend trains, not how well: SwiftShader is slow.
  const STEPS = 10;
  let s: Awaited<ReturnType<typeof open>>;

  beforeAll(async () => {
    s = await open('gpu');
  });
  afterAll(async () => {
    await s?.launched.close();
  });

  it('offers WebGL and WebGPU where the browser has them', async () => {
    expect(await readOfferedBackends(s.page)).toEqual(['auto', 'webgl', 'webgpu', 'wasm', 'cpu']);
  });

  // WebGL trains its 10 steps (the form's least); WebGPU on SwiftShader is slower still (its first
  // steps compile shaders: minutes here), so it is stopped after 2 — the same page path either way.
  for (const [backend, described, stopAfter] of [
    ['webgl', /^webgl \(WebGL 2/, STEPS],
    ['webgpu', /^webgpu \(/, 2],
  ] as const) {
    it(`trains both on ${backend} (${stopAfter} steps) and folds with max |Δ| < 1e-4`, async () => {
      await startTraining(s.page, { steps: STEPS, testImages: 100, backend });
      if (stopAfter < STEPS) {
        await s.page.waitForFunction(
          (n) => Number((document.getElementById('progress') as HTMLProgressElement).value) >= n,
          stopAfter,
          { timeout: 480_000, polling: 1000 },
        );
        await s.page.click('#stop');
      }
      await waitUntilReady(s.page, 540_000);
      const result = await readResult(s.page);
      summary[backend] = result;
      console.log(`${backend} run:`, JSON.stringify(result));
      expect(result.backend).toMatch(described);
      checkTraining(result, STEPS, 100, 0, stopAfter < STEPS ? 1 : 2);
      await s.page.screenshot({ path: join(OUT, `${backend}-trained.png`), fullPage: true });
      // The folded model classifies a drawing on this backend too (read back asynchronously).
      await drawWithMouse(s.page, SEVEN);
      await s.page.waitForSelector('#top3 li:nth-child(3)');
      const top3 = await readTop3(s.page);
      expect(top3.probs[0]).toBeGreaterThan(0);
      expect(s.offsite).toEqual([]);
      expect(s.errors).toEqual([]);
      await s.page.click('#clear');
    }, 1_200_000);
  }
});
