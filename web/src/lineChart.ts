/**
 * A small SVG line chart: a few series against the training step, each named at the end of its line
 * with its last value.
 *
 * Hand-written rather than a chart library: the page needs a few polylines, three ticks per axis and a
 * text summary for screen readers — about two hundred lines — while the libraries that do this well add
 * 50–200 kB to a bundle that must work offline and would still need the accessible summary added.
 *
 * The chart is drawn in CSS pixels (the viewBox is the element's own size, redrawn when it resizes), so
 * a 12 px label is 12 px on a phone and on a desktop alike; a fixed viewBox scaled to the element made
 * the tick labels ~7 px on a 390 px phone.
 */
const SVG_NS = 'http://www.w3.org/2000/svg';
/** Margins (px); the right one, which holds the end-of-line labels, grows to fit them (LineChart.right). */
const M = { left: 46, top: 24, bottom: 30 };
/** Gap between a line's last point and its label. */
const LABEL_OFFSET = 6;
/** End-of-line labels closer than this (px) are pushed apart. */
const LABEL_GAP = 15;

export interface Series {
  /** Shown at the end of the line and in the summary, e.g. 'Conv' ('' for a lone series). */
  label: string;
  /** CSS class of the line (colour and dash pattern), also written as data-series. */
  key: string;
  points: [x: number, y: number][];
  /** A marker at every point (for sparse series: tells the lines apart without colour or dashes). */
  marker?: 'circle' | 'square';
}

/**
 * How the y axis is chosen.
 * - 'from-zero': 0 to a round number above the data (losses).
 * - 'zoomed': round numbers just around the data, within `limits` — the axis does not start at 0,
 *   which the y title must say.
 * - 'around-zero': symmetric around 0, at least ±`minHalfSpan` (differences).
 */
export type YScale =
  | { kind: 'from-zero' }
  | { kind: 'zoomed'; limits: [number, number] }
  | { kind: 'around-zero'; minHalfSpan: number };

export interface LineChartOptions {
  /** What y is, for the summary, e.g. 'Test accuracy'. */
  yName: string;
  /** The y axis title above the plot, given the axis range (so it can say it is zoomed). */
  yTitle: (range: [number, number]) => string;
  yScale: YScale;
  formatY: (y: number) => string;
  /** The value in the end-of-line label (default formatY). */
  formatEnd?: (y: number) => string;
  /** Shown in the empty plot: what will appear there. */
  emptyText: string;
}

function node<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const n = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

/** A round upper bound ≥ v (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten), so the data fills the plot. */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return (
    [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * p).find((c) => c >= v * (1 - 1e-9)) ?? 10 * p
  );
}

/** A round step (1, 2 or 5 times a power of ten) ≥ v. */
function niceStep(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v * (1 - 1e-9)) ?? 10 * p;
}

/** The y axis [lo, hi] for `ys` under `scale`; lo, (lo+hi)/2 and hi are the labelled ticks. */
export function yRange(ys: number[], scale: YScale): [number, number] {
  if (scale.kind === 'from-zero') return [0, niceCeil(Math.max(0, ...ys))];
  if (scale.kind === 'around-zero') {
    const m = niceCeil(Math.max(scale.minHalfSpan, ...ys.map(Math.abs)));
    return [-m, m];
  }
  const [min, max] = scale.limits;
  if (ys.length === 0) return [min, max];
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  // Two steps span the data, so the middle tick is a round number too.
  const step = niceStep(Math.max(hi - lo, (max - min) / 50) / 2);
  let a = Math.floor(lo / step - 1e-9) * step;
  let b = Math.ceil(hi / step + 1e-9) * step;
  if (Math.round((b - a) / step) % 2 === 1) {
    if (b + step <= max + 1e-9) b += step;
    else a -= step;
  }
  a = Math.max(min, a);
  b = Math.min(max, b);
  return [a, b];
}

/** Label positions (px) at least LABEL_GAP apart, each as near its wish as that allows, within [top, bottom]. */
export function spreadLabels(wishes: number[], top: number, bottom: number): number[] {
  const order = wishes.map((y, i) => [y, i] as const).sort((p, q) => p[0] - q[0]);
  const ys = order.map(([y]) => Math.min(Math.max(y, top), bottom));
  for (let i = 1; i < ys.length; i++) ys[i] = Math.max(ys[i], ys[i - 1] + LABEL_GAP);
  // Pushed past the bottom: shift the stack up.
  for (let i = ys.length - 1; i >= 0; i--) {
    const limit = i === ys.length - 1 ? bottom : ys[i + 1] - LABEL_GAP;
    ys[i] = Math.min(ys[i], limit);
  }
  const out = new Array<number>(wishes.length);
  order.forEach(([, i], k) => (out[i] = ys[k]));
  return out;
}

export class LineChart {
  private xMax = 1;
  private series: Series[] = [];
  /** The right margin: as wide as the widest end-of-line label drawn so far ("DO-Conv 88.5 %"). */
  private right = 100;

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly opts: LineChartOptions,
  ) {
    svg.setAttribute('role', 'img');
    new ResizeObserver(() => this.draw(this.series)).observe(svg);
  }

  /** Clears the chart for a run of `xMax` steps. */
  reset(xMax: number): void {
    this.xMax = Math.max(1, xMax);
    this.draw([]);
  }

  draw(series: Series[]): void {
    this.series = series;
    const W = Math.max(200, this.svg.clientWidth);
    const H = Math.max(120, this.svg.clientHeight);
    this.svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
    const [y0, y1] = yRange(ys, this.opts.yScale);
    const right = this.right;
    const sx = (x: number) => M.left + ((W - M.left - right) * x) / this.xMax;
    const sy = (y: number) =>
      H - M.bottom - ((H - M.top - M.bottom) * (Math.min(Math.max(y, y0), y1) - y0)) / (y1 - y0);

    const parts: SVGElement[] = [];
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      const y = y0 + t * (y1 - y0);
      const zero = this.opts.yScale.kind === 'around-zero' && t === 0.5;
      parts.push(
        node('line', {
          class: zero ? 'grid zero' : 'grid',
          x1: M.left,
          x2: W - right,
          y1: sy(y),
          y2: sy(y),
        }),
      );
      if (t % 0.5 !== 0) continue; // quarter lines unlabelled: round labels only
      parts.push(
        node(
          'text',
          { class: 'tick', x: M.left - 5, y: sy(y) + 4, 'text-anchor': 'end' },
          this.opts.formatY(y),
        ),
      );
      const x = Math.round(t * this.xMax);
      parts.push(
        node(
          'text',
          { class: 'tick', x: sx(x), y: H - M.bottom + 16, 'text-anchor': 'middle' },
          String(x),
        ),
      );
    }
    parts.push(
      node('text', { class: 'axis-name', x: W - right + 22, y: H - M.bottom + 16 }, 'step'),
      node('text', { class: 'axis-name y-title', x: 4, y: 15 }, this.opts.yTitle([y0, y1])),
    );

    const drawn = series.filter((s) => s.points.length > 0);
    // The placeholder starts inside the plot, between the middle and upper grid lines: centred on
    // the middle line it ran over the middle tick label ("0.5", "50%") on a narrow chart.
    const emptyY = sy(y0 + 0.625 * (y1 - y0)) + 4;
    if (drawn.length === 0) {
      parts.push(node('text', { class: 'empty', x: M.left + 8, y: emptyY }, this.opts.emptyText));
    }
    for (const s of drawn) {
      const xy = s.points.map(([x, y]) => [sx(x), sy(y)]);
      parts.push(
        node('polyline', {
          class: `line ${s.key}`,
          'data-series': s.key,
          'data-points': s.points.length,
          points: xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' '),
        }),
      );
      for (const [x, y] of s.marker ? xy : []) {
        const cls = `mark ${s.key}`;
        parts.push(
          s.marker === 'circle'
            ? node('circle', { class: cls, cx: x, cy: y, r: 3.5 })
            : node('rect', { class: cls, x: x - 3.5, y: y - 3.5, width: 7, height: 7 }),
        );
      }
    }
    const labelYs = spreadLabels(
      drawn.map((s) => sy(s.points[s.points.length - 1][1])),
      M.top,
      H - M.bottom,
    );
    drawn.forEach((s, i) => {
      const [x, y] = s.points[s.points.length - 1];
      parts.push(
        node(
          'text',
          {
            class: `end-label ${s.key}`,
            'data-series': s.key,
            x: sx(x) + LABEL_OFFSET,
            y: labelYs[i] + 4,
          },
          `${s.label} ${(this.opts.formatEnd ?? this.opts.formatY)(y)}`.trim(),
        ),
      );
    });
    this.svg.replaceChildren(...parts);
    this.svg.setAttribute('aria-label', this.summary(drawn));
    this.wrapEmptyText(W - M.left - 16, emptyY);
    // Text width is known only once drawn: widen the margin and draw again when a label would be cut.
    // The margin only grows, so this redraws at most once per new widest label.
    const labels = Array.from(this.svg.querySelectorAll<SVGTextElement>('text.end-label'));
    const need = Math.ceil(Math.max(0, ...labels.map((t) => t.getComputedTextLength()))) + 10;
    if (need > this.right && need < W / 2) {
      this.right = need;
      this.draw(series);
    }
  }

  /** Breaks the placeholder into two lines at a space when it is wider than `room` (a phone). */
  private wrapEmptyText(room: number, y: number): void {
    const text = this.svg.querySelector<SVGTextElement>('text.empty');
    if (!text || text.getComputedTextLength() <= room) return;
    const words = this.opts.emptyText.split(' ');
    const half = Math.ceil(words.length / 2);
    const x = text.getAttribute('x') ?? '0';
    text.replaceChildren(
      node('tspan', { x, y: y - 8 }, words.slice(0, half).join(' ')),
      node('tspan', { x, y: y + 8 }, words.slice(half).join(' ')),
    );
  }

  /** The chart in words: the last value of each series. */
  private summary(series: Series[]): string {
    const last = series.map((s) => {
      const [x, y] = s.points[s.points.length - 1];
      return `${s.label || this.opts.yName} ${(this.opts.formatEnd ?? this.opts.formatY)(y)} at step ${x}`;
    });
    return `${this.opts.yName}: ${last.length ? last.join('; ') : 'no data yet'}`;
  }
}
