/**
 * What both comparison records share (ComparisonRecord, TaskComparisonRecord): the head saying
 * what was run where, mean ± std per side, and the curves' SVG with the JSON/MD/SVG files.
 */
import * as path from 'node:path';
import { replaceFilesAtomically } from '../io/atomicFiles.js';
import type { Side } from './comparisonPool.js';
import type { EngineRecord, MachineInfo } from './environment.js';
import { accuracyCurvesSvg, type PlotOptions } from './plot.js';
import { dateAndMachine } from './trainingRun.js';

/** The first fields of a comparison's NAME.json. */
export interface ComparisonHead {
  command: string;
  date: string;
  machine: MachineInfo;
  /** The TF.js backend's name (also `engine.backend`). */
  backend: string;
  /** What ran the runs trained here (reused runs record their own in their summary.json). */
  engine: EngineRecord;
  name: string;
}

export function comparisonHead(
  command: string | undefined,
  engine: EngineRecord,
  name: string,
): ComparisonHead {
  return { command: command ?? '', ...dateAndMachine(), backend: engine.backend, engine, name };
}

/** Mean and sample standard deviation (n − 1; 0 for one run). */
export interface MeanStd {
  mean: number;
  std: number;
}

/** Mean and sample standard deviation of `xs`. */
export function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

/** Each side's mean ± std of one score, and DO-Conv's mean minus the baseline's. */
export function sideStats(runs: Record<Side, number[]>): Record<Side, MeanStd> & {
  difference: number;
} {
  const conv = meanStd(runs.conv);
  const doconv = meanStd(runs.doconv);
  return { conv, doconv, difference: doconv.mean - conv.mean };
}

/**
 * The SVG of every run's per-epoch curve (baseline blue, DO-Conv red), and OUT/NAME.json, .md and
 * .svg written all at once; no files without `out`.
 */
export async function publishComparison(
  {
    out,
    name,
    record,
    table,
  }: { out: string | undefined; name: string; record: object; table: string },
  curves: Record<Side, number[][]>,
  plot: PlotOptions,
): Promise<{ svg: string; files: string[] }> {
  const svg = accuracyCurvesSvg(
    [
      { label: 'Conv (baseline)', color: '#1f77b4', runs: curves.conv },
      { label: 'DO-Conv', color: '#d62728', runs: curves.doconv },
    ],
    plot,
  );
  if (out === undefined) return { svg, files: [] };
  await replaceFilesAtomically(out, [
    { name: `${name}.json`, data: JSON.stringify(record, null, 2) + '\n' },
    { name: `${name}.md`, data: table },
    { name: `${name}.svg`, data: svg },
  ]);
  return { svg, files: ['json', 'md', 'svg'].map((ext) => path.join(out, `${name}.${ext}`)) };
}

/**
 * The official README's table shape, in % — one row per conv: run1 … runN, avg, +, plus mean ± std:
 *
 *   |          | run1  | … | avg    | +      | mean ± std    |
 *   | Conv     | 98.52 | … | 98.504 |        | 98.504 ± 0.05 |
 *   | DO-Conv  | 98.70 | … | 98.682 | +0.178 | 98.682 ± 0.04 |
 */
export function comparisonTable(record: {
  runs: Record<Side, number[]>;
  stats: Record<Side, MeanStd> & { difference: number };
  reference: { conv: number; doconv: number; source: string } | null;
  name: string;
}): string {
  const n = record.runs.conv.length;
  const pct = (v: number, digits: number) => (v * 100).toFixed(digits);
  const head = [
    '',
    ...Array.from({ length: n }, (_, i) => `run${i + 1}`),
    'avg',
    '+',
    'mean ± std',
  ];
  const row = (label: string, side: Side) => {
    const s = record.stats[side];
    const plus = side === 'doconv' ? signed(record.stats.difference * 100, 3) : '';
    return [
      label,
      ...record.runs[side].map((v) => pct(v, 2)),
      pct(s.mean, 3),
      plus,
      `${pct(s.mean, 3)} ± ${pct(s.std, 3)}`,
    ];
  };
  const rows = [head, head.map(() => '---'), row('Conv', 'conv'), row('DO-Conv', 'doconv')];
  let text = rows.map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
  if (record.reference) {
    const r = record.reference;
    text += `\nOfficial README (${r.source}, mean of 5): Conv ${r.conv.toFixed(3)}, DO-Conv ${r.doconv.toFixed(3)}, ${signed(r.doconv - r.conv, 3)}\n`;
  }
  return text;
}

function signed(v: number, digits: number): string {
  return (v >= 0 ? '+' : '') + v.toFixed(digits);
}
