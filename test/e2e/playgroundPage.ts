/** What the e2e test does on the playground page, in the page's own terms (ids from web/index.html). */
import type { Page } from 'playwright-core';

export interface TrainResult {
  backend: string;
  accuracy: { conv: number; doconv: number };
  msPerStep: { conv: string; doconv: string };
  curvePoints: Record<string, number>;
  fold: { paramsBefore: number; paramsAfter: number; maxAbsDiff: number; accuracy: number };
}

/** Fills the form as a keyboard user would (focus, type) and submits it with Enter. */
export async function startTraining(
  page: Page,
  opts: { steps: number; testImages: number; backend: string },
): Promise<void> {
  await page.selectOption('#backend', opts.backend);
  await page.fill('#test-images', String(opts.testImages));
  await page.fill('#steps', String(opts.steps));
  await page.focus('#steps');
  await page.keyboard.press('Enter');
}

/** Waits for the page to reach 'ready' (throws with the status line on 'error'). */
export async function waitUntilReady(page: Page, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    () => ['ready', 'error'].includes(document.body.dataset.state ?? ''),
    null,
    {
      timeout: timeoutMs,
      polling: 500,
    },
  );
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== 'ready')
    throw new Error(`page ended in state ${state}: ${await page.textContent('#status')}`);
}

export async function readResult(page: Page): Promise<TrainResult> {
  const text = (sel: string) => page.textContent(sel);
  const value = async (id: string) => Number(await page.getAttribute(`#${id}`, 'data-value'));
  const curvePoints = await page.evaluate(() =>
    Object.fromEntries(
      Array.from(document.querySelectorAll('svg polyline[data-series]')).map((p) => [
        `${p.closest('svg')?.id}:${p.getAttribute('data-series')}`,
        Number(p.getAttribute('data-points')),
      ]),
    ),
  );
  return {
    backend: (await text('#backend-name')) ?? '',
    accuracy: { conv: await value('acc-conv'), doconv: await value('acc-doconv') },
    msPerStep: { conv: (await text('#ms-conv')) ?? '', doconv: (await text('#ms-doconv')) ?? '' },
    curvePoints,
    fold: {
      paramsBefore: await value('fold-params-before'),
      paramsAfter: await value('fold-params-after'),
      maxAbsDiff: await value('fold-maxdiff'),
      accuracy: await value('fold-acc'),
    },
  };
}

export interface Top3 {
  digits: number[];
  probs: number[];
}

export async function readTop3(page: Page): Promise<Top3> {
  const items = await page.$$eval('#top3 li', (lis) =>
    lis.map((li) => [Number(li.getAttribute('data-digit')), Number(li.getAttribute('data-prob'))]),
  );
  return { digits: items.map((i) => i[0]), probs: items.map((i) => i[1]) };
}

/** The 28×28 image the model was given (the "what the model sees" canvas), as grey bytes. */
export async function readSeenImage(page: Page): Promise<number[]> {
  return page.$eval('#seen', (c) => {
    const data = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data;
    return Array.from({ length: 28 * 28 }, (_, i) => data[4 * i]);
  });
}

/** A polyline in pad coordinates (0..1 of the pad's box), drawn with the mouse. */
export async function drawWithMouse(page: Page, stroke: [number, number][]): Promise<void> {
  await page.locator('#pad').scrollIntoViewIfNeeded();
  const box = (await page.locator('#pad').boundingBox())!;
  const at = ([x, y]: [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(stroke[0]));
  await page.mouse.down();
  for (const p of stroke.slice(1)) await page.mouse.move(...at(p), { steps: 8 });
  await page.mouse.up();
}

/** The same with a finger: raw touch events through the DevTools protocol (Chrome makes pointer events of them). */
export async function drawWithTouch(page: Page, stroke: [number, number][]): Promise<void> {
  await page.locator('#pad').scrollIntoViewIfNeeded();
  const box = (await page.locator('#pad').boundingBox())!;
  const cdp = await page.context().newCDPSession(page);
  const point = ([x, y]: [number, number]) => ({
    x: box.x + x * box.width,
    y: box.y + y * box.height,
  });
  await cdp.send('Input.dispatchTouchEvent', {
    type: 'touchStart',
    touchPoints: [point(stroke[0])],
  });
  for (let i = 1; i < stroke.length; i++) {
    const [a, b] = [stroke[i - 1], stroke[i]];
    for (let k = 1; k <= 8; k++) {
      const t = k / 8;
      await cdp.send('Input.dispatchTouchEvent', {
        type: 'touchMove',
        touchPoints: [point([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])],
      });
    }
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

/** A box in CSS pixels, page coordinates (so a scrolled page does not move it). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The element's box relative to the document (not the viewport). */
export async function pageBox(page: Page, selector: string): Promise<Box> {
  return page.$eval(selector, (e) => {
    const r = e.getBoundingClientRect();
    return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height };
  });
}

/** What the layout assertions look at, measured in the page. */
export interface Layout {
  /** document width − viewport width (> 0: the page scrolls sideways). */
  pageOverflow: number;
  /** Per select: widest option text (px, in the select's font) and the room for it. */
  selects: {
    id: string;
    widestOption: number;
    room: number;
    scrollWidth: number;
    clientWidth: number;
  }[];
  /** Smallest chart tick label as drawn, in CSS px (font-size × the SVG's scale to the screen). */
  smallestTickPx: number;
  /** End-of-line labels per chart id, e.g. { 'acc-chart': ['Conv 84.1 %', 'DO-Conv 84.5 %'] }. */
  endLabels: Record<string, string[]>;
  /** Every end-of-line label lies wholly inside its chart (none cut at the right edge). */
  endLabelsInside: boolean;
  /** The y axis title per chart id. */
  yTitles: Record<string, string>;
  /** The results table: fits its box, or the box scrolls sideways and the scroll hint shows. */
  table: { fits: boolean; scrolls: boolean; hintVisible: boolean };
  /** The download section's code block is wider than its box (would be clipped). */
  codeClipped: boolean;
}

export async function readLayout(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    const ctx = document.createElement('canvas').getContext('2d')!;
    const selects = Array.from(document.querySelectorAll('select')).map((s) => {
      const cs = getComputedStyle(s);
      ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const widestOption = Math.max(
        ...Array.from(s.options).map((o) => ctx.measureText(o.text).width),
      );
      // The drop-down arrow takes about 20 px of the inner width.
      const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
      return {
        id: s.id,
        widestOption,
        room,
        scrollWidth: s.scrollWidth,
        clientWidth: s.clientWidth,
      };
    });
    const ticks = Array.from(document.querySelectorAll<SVGTextElement>('svg text.tick'));
    const smallestTickPx = Math.min(
      ...ticks.map(
        (t) =>
          parseFloat(getComputedStyle(t).fontSize) * (t.ownerSVGElement!.getScreenCTM()?.a ?? 0),
      ),
    );
    const byChart = (selector: string) => {
      const out: Record<string, string[]> = {};
      for (const t of Array.from(document.querySelectorAll(selector))) {
        const id = t.closest('svg')!.id;
        (out[id] ??= []).push(t.textContent ?? '');
      }
      return out;
    };
    const wrap = document.getElementById('results-wrap')!;
    const hint = wrap.nextElementSibling as HTMLElement;
    const pre = document.querySelector('section[aria-labelledby="download-h"] pre')!;
    return {
      pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
      selects,
      smallestTickPx,
      endLabels: byChart('svg text.end-label'),
      endLabelsInside: Array.from(
        document.querySelectorAll<SVGTextElement>('svg text.end-label'),
      ).every((t) => {
        const b = t.getBBox();
        return b.x >= 0 && b.x + b.width <= t.ownerSVGElement!.viewBox.baseVal.width;
      }),
      yTitles: Object.fromEntries(
        Object.entries(byChart('svg text.y-title')).map(([k, v]) => [k, v[0]]),
      ),
      table: {
        fits: wrap.scrollWidth <= wrap.clientWidth,
        scrolls: getComputedStyle(wrap).overflowX === 'auto',
        hintVisible: hint.classList.contains('scroll-hint') && hint.offsetHeight > 0,
      },
      codeClipped: pre.scrollWidth > pre.clientWidth,
    };
  });
}

/** Per chart: its placeholder's overlap with any axis text, and whether it lies inside the chart. */
export interface Placeholder {
  chart: string;
  text: string;
  overlapsAxisText: boolean;
  inside: boolean;
}

export async function readPlaceholders(page: Page): Promise<Placeholder[]> {
  return page.$$eval('svg text.empty', (texts) =>
    texts.map((t) => {
      const svg = (t as SVGTextElement).ownerSVGElement!;
      const box = (e: Element) => e.getBoundingClientRect();
      const a = box(t);
      const others = Array.from(svg.querySelectorAll('text.tick, text.axis-name')).map(box);
      const overlapsAxisText = others.some(
        (b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom,
      );
      const s = box(svg);
      return {
        chart: svg.id,
        text: t.textContent ?? '',
        overlapsAxisText,
        inside: a.left >= s.left && a.right <= s.right && a.top >= s.top && a.bottom <= s.bottom,
      };
    }),
  );
}

/** The backends the page offers once it has looked (the select's data-offered). */
export async function readOfferedBackends(page: Page): Promise<string[]> {
  await page.waitForFunction(() => document.getElementById('backend')?.dataset.offered != null);
  return page.$eval('#backend', (s) => (s as HTMLSelectElement).dataset.offered!.split(' '));
}
