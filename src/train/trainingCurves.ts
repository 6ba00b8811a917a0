/**
 * A run's curves.svg: its losses (top) and its scores (bottom) per epoch, from the metrics.jsonl
 * lines of any task. Browser-safe (string in, string out), drawn by plot.ts.
 */
import { accuracyCurvesSvg, type CurveSeries } from './plot.js';

export const CURVES_FILE = 'curves.svg';

/** The metrics fields drawn, with their labels and colours; a field a run lacks is left out. */
const LOSSES = [
  ['trainLoss', 'train loss', '#1f77b4'],
  ['testLoss', 'test loss', '#d62728'],
] as const;
const SCORES = [
  ['trainAccuracy', 'train accuracy', '#1f77b4'],
  ['testAccuracy', 'test accuracy', '#d62728'],
  ['testMeanIoU', 'test mIoU', '#d62728'],
  ['testPixelAccuracy', 'test pixel accuracy', '#2ca02c'],
  ['testAP', 'test AP@[.5:.95]', '#d62728'],
  ['testAP50', 'test AP@0.5', '#2ca02c'],
] as const;

const WIDTH = 720;
const HEIGHT = 380;

/** One SVG of two charts, losses above scores, for the epochs in `history`. */
export function trainingCurvesSvg(history: readonly object[], title: string): string {
  const series = (fields: readonly (readonly [string, string, string])[]): CurveSeries[] =>
    fields
      .map(([key, label, color]) => ({
        label,
        color,
        runs: [history.map((m) => (m as Record<string, unknown>)[key])],
      }))
      .filter((s) => s.runs[0].every((v) => typeof v === 'number'))
      .map((s) => ({ ...s, runs: s.runs as number[][] }));
  const chart = (y: number, svg: string) => svg.replace('<svg ', `<svg x="0" y="${y}" `);
  const losses = accuracyCurvesSvg(series(LOSSES), {
    title: `${title}: loss`,
    yLabel: 'loss',
    percent: false,
    runsInLegend: false,
    width: WIDTH,
    height: HEIGHT,
  });
  const scores = accuracyCurvesSvg(series(SCORES), {
    title: `${title}: scores`,
    yLabel: '%',
    runsInLegend: false,
    width: WIDTH,
    height: HEIGHT,
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${2 * HEIGHT}" viewBox="0 0 ${WIDTH} ${2 * HEIGHT}">`,
    chart(0, losses).trimEnd(),
    chart(HEIGHT, scores).trimEnd(),
    '</svg>',
    '',
  ].join('\n');
}
