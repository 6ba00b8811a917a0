/**
 * A small SVG line chart of per-epoch test accuracy, baseline vs DO-Conv.
 *
 * Hand-written (~100 lines) rather than a plotting package: the chart is two sets of polylines, axes
 * and a legend, and the well-kept SVG-capable plotting libraries on npm (vega/vega-lite, plotly,
 * d3 + jsdom) bring megabytes of dependencies or a DOM to draw that. Browser-safe (string in, string out).
 */

/** One line per run, a value per epoch (accuracy as a fraction 0..1). */
export interface CurveSeries {
  label: string;
  color: string;
  runs: number[][];
}

/** Options of `accuracyCurvesSvg`. */
export interface PlotOptions {
  title: string;
  /** The y axis' label. Default 'test accuracy (%)'. */
  yLabel?: string;
  /** Values are fractions shown in % (default), or plotted as they are (false: losses). */
  percent?: boolean;
  /** Say "(mean of N; thin: runs)" after each legend label. Default true. */
  runsInLegend?: boolean;
  width?: number;
  height?: number;
}

/**
 * An SVG document: x = epoch (1..E), y = test accuracy in %, a thin line per run and a thick line for
 * the mean of each series (mean over the runs that reached that epoch).
 */
export function accuracyCurvesSvg(series: readonly CurveSeries[], opts: PlotOptions): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 420;
  const m = { left: 64, right: 24, top: 44, bottom: 56 };
  const epochs = Math.max(1, ...series.flatMap((s) => s.runs.map((r) => r.length)));
  const scale = opts.percent === false ? 1 : 100;
  const values = series
    .flatMap((s) => s.runs.flat())
    .map((v) => v * scale)
    .filter(Number.isFinite);
  const [lo, hi] = niceRange(
    values.length ? Math.min(...values) : 0,
    values.length ? Math.max(...values) : scale,
    scale === 100 ? 100 : Infinity,
  );
  const x = (epoch: number) =>
    epochs === 1
      ? (m.left + width - m.right) / 2
      : m.left + ((epoch - 1) / (epochs - 1)) * (width - m.left - m.right);
  const y = (pct: number) => m.top + ((hi - pct) / (hi - lo)) * (height - m.top - m.bottom);
  const fmt = (v: number) => v.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(opts.title)}</text>`,
  ];
  // Grid and y ticks.
  const step = tickStep(hi - lo);
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
    out.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 6}" y="${fmt(y(v) + 4)}" text-anchor="end">${trimNumber(v)}</text>`,
    );
  }
  // x ticks: at most ~12 labels.
  const every = Math.max(1, Math.ceil(epochs / 12));
  for (let e = 1; e <= epochs; e += every) {
    out.push(
      `<text x="${fmt(x(e))}" y="${height - m.bottom + 18}" text-anchor="middle">${e}</text>`,
    );
  }
  out.push(
    `<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 14}" text-anchor="middle">epoch</text>`,
    `<text transform="translate(16 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(opts.yLabel ?? 'test accuracy (%)')}</text>`,
  );
  const line = (run: number[], color: string, widthPx: number, opacity: number) => {
    const pts = run.map((v, i) => `${fmt(x(i + 1))},${fmt(y(v * scale))}`);
    const dots =
      run.length === 1
        ? `<circle cx="${pts[0].split(',')[0]}" cy="${pts[0].split(',')[1]}" r="${widthPx + 1}" fill="${color}" opacity="${opacity}"/>`
        : '';
    return `<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="${widthPx}" opacity="${opacity}"/>${dots}`;
  };
  for (const s of series) {
    for (const run of s.runs) out.push(line(run, s.color, 1, 0.35));
    out.push(line(meanCurve(s.runs), s.color, 2.5, 1));
  }
  // Legend, bottom right: accuracy curves rise, so that corner is usually empty.
  const lx = width - m.right - 236;
  // (Losses fall: their legend goes top right instead.)
  const ly0 = scale === 1 ? m.top + 12 : height - m.bottom - 12 - 18 * series.length;
  out.push(
    `<rect x="${lx - 8}" y="${ly0 - 6}" width="236" height="${18 * series.length + 6}" fill="white" opacity="0.85"/>`,
  );
  series.forEach((s, i) => {
    const ly = ly0 + 6 + i * 18;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"/>`,
      `<text x="${lx + 30}" y="${ly + 4}">${escapeXml(opts.runsInLegend === false ? s.label : `${s.label} (mean of ${s.runs.length}; thin: runs)`)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Per-epoch mean over the runs that have that epoch. */
export function meanCurve(runs: readonly number[][]): number[] {
  const len = Math.max(0, ...runs.map((r) => r.length));
  return Array.from({ length: len }, (_, e) => {
    const vals = runs.filter((r) => r.length > e).map((r) => r[e]);
    return vals.reduce((a, b) => a + b, 0) / vals.length;
  });
}

function niceRange(min: number, max: number, top: number): [number, number] {
  const near = top === 100 ? 0.1 : Math.max(Math.abs(max) * 0.05, 1e-3);
  if (max - min < 2 * near) return [Math.max(0, min - near), Math.min(top, max + near)];
  const pad = (max - min) * 0.08;
  return [Math.max(0, min - pad), Math.min(top, max + pad)];
}

function tickStep(span: number): number {
  const raw = span / 6;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const n = raw / pow;
  return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * pow;
}

function trimNumber(v: number): string {
  return Number(v.toFixed(6)).toString();
}

function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
