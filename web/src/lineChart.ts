/**
 * A small SVG line chart: two series against the training step.
 *
 * Hand-written rather than a chart library: the page needs two polylines, three ticks per axis and a
 * text summary for screen readers — about a hundred lines — while the libraries that do this well add
 * 50–200 kB to a bundle that must work offline and would still need the accessible summary added.
 */
const SVG_NS = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 180;
const M = { left: 40, right: 10, top: 10, bottom: 26 };

export interface Series {
  /** Shown in the summary, e.g. 'Conv'. */
  label: string;
  /** CSS class of the line (colour and dash pattern), also written as data-series. */
  key: string;
  points: [x: number, y: number][];
}

export interface LineChartOptions {
  /** What y is, for the summary, e.g. 'training loss'. */
  yName: string;
  /** Fixed y range; when absent, 0 to the data's maximum. */
  yRange?: [number, number];
  formatY: (y: number) => string;
}

function node<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const n = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  return n;
}

/** A round upper bound ≥ v (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten), so the data fills the plot. */
function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return (
    [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * p).find((c) => c >= v * (1 - 1e-9)) ?? 10 * p
  );
}

export class LineChart {
  private xMax = 1;

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly opts: LineChartOptions,
  ) {
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('role', 'img');
  }

  /** Clears the chart for a run of `xMax` steps. */
  reset(xMax: number): void {
    this.xMax = Math.max(1, xMax);
    this.draw([]);
  }

  draw(series: Series[]): void {
    const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
    const [y0, y1] = this.opts.yRange ?? [0, niceCeil(Math.max(0, ...ys))];
    const sx = (x: number) => M.left + ((W - M.left - M.right) * x) / this.xMax;
    const sy = (y: number) =>
      H - M.bottom - ((H - M.top - M.bottom) * (Math.min(Math.max(y, y0), y1) - y0)) / (y1 - y0);

    const parts: SVGElement[] = [];
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      const y = y0 + t * (y1 - y0);
      parts.push(
        node('line', { class: 'grid', x1: M.left, x2: W - M.right, y1: sy(y), y2: sy(y) }),
      );
      if (t % 0.5 !== 0) continue; // quarter lines unlabelled: round labels only
      parts.push(
        Object.assign(
          node('text', { class: 'tick', x: M.left - 4, y: sy(y) + 4, 'text-anchor': 'end' }),
          { textContent: this.opts.formatY(y) },
        ),
      );
      const x = Math.round(t * this.xMax);
      parts.push(
        Object.assign(
          node('text', { class: 'tick', x: sx(x), y: H - M.bottom + 14, 'text-anchor': 'middle' }),
          { textContent: String(x) },
        ),
      );
    }
    parts.push(
      Object.assign(
        node('text', { class: 'axis-name', x: W - M.right, y: H - 2, 'text-anchor': 'end' }),
        { textContent: 'step' },
      ),
    );
    for (const s of series) {
      const points = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
      parts.push(
        node('polyline', {
          class: `line ${s.key}`,
          'data-series': s.key,
          'data-points': s.points.length,
          points,
        }),
      );
    }
    this.svg.replaceChildren(...parts);
    this.svg.setAttribute('aria-label', this.summary(series));
  }

  /** The chart in words: the last value of each series. */
  private summary(series: Series[]): string {
    const last = series
      .filter((s) => s.points.length > 0)
      .map((s) => {
        const [x, y] = s.points[s.points.length - 1];
        return `${s.label} ${this.opts.formatY(y)} at step ${x}`;
      });
    return `${this.opts.yName}: ${last.length ? last.join('; ') : 'no data yet'}`;
  }
}
