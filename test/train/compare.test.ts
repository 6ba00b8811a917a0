/** compareConvs on tiny runs: the record's shape, the README-shaped table, the SVG, reuse of finished runs. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import '../engine/wasmSetup.js';
import {
  accuracyCurvesSvg,
  compareConvs,
  comparisonTable,
  meanCurve,
  meanStd,
  type ComparisonRecord,
} from '../../src/train/index.js';
import { tinyModel, wasmWithTempRoot } from './helpers.js';

const root = wasmWithTempRoot('compare');

describe('meanStd / meanCurve', () => {
  it('sample standard deviation; one value has std 0', () => {
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(5 / 3) });
    expect(meanStd([0.98])).toEqual({ mean: 0.98, std: 0 });
  });
  it('mean per epoch over the runs that reached it', () => {
    expect(
      meanCurve([
        [1, 2, 3],
        [3, 4],
      ]),
    ).toEqual([2, 3, 3]);
  });
});

describe('comparisonTable', () => {
  it('the official README shape: run1..runN, avg, +, then mean ± std; the reference line for presets', () => {
    const table = comparisonTable({
      name: 'tf-mnist-sample',
      runs: { conv: [0.985, 0.9852], doconv: [0.9868, 0.9866] },
      stats: {
        conv: meanStd([0.985, 0.9852]),
        doconv: meanStd([0.9868, 0.9866]),
        difference: 0.0016,
      },
      reference: { conv: 98.504, doconv: 98.682, source: 'sample_tf.py' },
    });
    const lines = table.trim().split('\n');
    expect(lines[0]).toBe('|  | run1 | run2 | avg | + | mean ± std |');
    expect(lines[2]).toBe('| Conv | 98.50 | 98.52 | 98.510 |  | 98.510 ± 0.014 |');
    expect(lines[3]).toBe('| DO-Conv | 98.68 | 98.66 | 98.670 | +0.160 | 98.670 ± 0.014 |');
    expect(table).toContain(
      'Official README (sample_tf.py, mean of 5): Conv 98.504, DO-Conv 98.682, +0.178',
    );
  });
});

describe('accuracyCurvesSvg', () => {
  it('an SVG with a thin line per run and a thick mean line per series', () => {
    const svg = accuracyCurvesSvg(
      [
        {
          label: 'Conv',
          color: '#111',
          runs: [
            [0.9, 0.95],
            [0.91, 0.96],
          ],
        },
        { label: 'DO-Conv <b>', color: '#222', runs: [[0.92, 0.97]] },
      ],
      { title: 'a & b' },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline/g)!.length).toBe(3 + 2);
    expect(svg).toContain('a &amp; b');
    expect(svg).toContain('DO-Conv &lt;b&gt;');
    expect(svg).not.toContain('NaN');
  });
  it('one epoch per run draws points', () => {
    const svg = accuracyCurvesSvg([{ label: 'x', color: '#000', runs: [[0.95]] }], { title: 't' });
    expect(svg).toContain('<circle');
    expect(svg).not.toContain('NaN');
  });
});

describe('compareConvs', () => {
  it('trains both convs per seed, writes JSON/MD/SVG, and reuses finished runs', async () => {
    const out = path.join(root(), 'cmp');
    const opts = {
      preset: 'tf-mnist-sample',
      epochs: 2,
      trainLimit: 96,
      testLimit: 64,
      runs: 2,
      out,
      command: 'doconv compare --test',
    };
    const ran: string[] = [];
    const first = await compareConvs({
      ...opts,
      onRunEnd: (s, reused) => void ran.push(`${s.conv}${s.seed}${reused ? 'r' : ''}`),
    });
    expect(ran).toEqual(['conv1', 'doconv1', 'conv2', 'doconv2']);
    const record = JSON.parse(
      await fs.readFile(path.join(out, 'tf-mnist-sample.json'), 'utf8'),
    ) as ComparisonRecord;
    expect(record).toEqual(first.record);
    expect(Object.keys(record)).toEqual(
      expect.arrayContaining(['command', 'date', 'machine', 'backend', 'runs']),
    );
    expect(record.command).toBe('doconv compare --test');
    expect(record.backend).toBe('wasm');
    // what ran the runs: wasm's portable engine here (the native one only where a test turns it on)
    expect(record.engine).toEqual({ backend: 'wasm', engine: 'wasm', oneDnn: null, threads: null });
    expect(record.seeds).toEqual([1, 2]);
    for (const side of ['conv', 'doconv'] as const) {
      expect(record.runs[side].length).toBe(2);
      record.runs[side].forEach((a) => expect(a >= 0 && a <= 1).toBe(true));
      expect(record.curves[side].map((c) => c.length)).toEqual([2, 2]);
      expect(record.curves[side].map((c) => c[1])).toEqual(record.runs[side]);
    }
    expect(record.reference).toEqual({ conv: 98.504, doconv: 98.682, source: 'sample_tf.py' });
    expect(record.config).toMatchObject({ epochs: 2, trainLimit: 96, model: 'tf-mnist-sample' });
    expect(record.config).not.toHaveProperty('conv');
    expect(await fs.readFile(path.join(out, 'tf-mnist-sample.md'), 'utf8')).toBe(first.table);
    expect(
      (await fs.readFile(path.join(out, 'tf-mnist-sample.svg'), 'utf8')).startsWith('<svg'),
    ).toBe(true);

    // A run recorded before `workers` joined the recipe counts as the 1-worker run it was.
    const oldSummary = path.join(out, 'runs', 'conv-seed2', 'summary.json');
    const recorded = JSON.parse(await fs.readFile(oldSummary, 'utf8'));
    delete recorded.config.workers;
    await fs.writeFile(oldSummary, JSON.stringify(recorded));

    ran.length = 0;
    const second = await compareConvs({
      ...opts,
      onRunEnd: (s, reused) => void ran.push(`${s.conv}${s.seed}${reused ? 'r' : ''}`),
    });
    expect(ran).toEqual(['conv1r', 'doconv1r', 'conv2r', 'doconv2r']);
    expect(second.record.runs).toEqual(first.record.runs);
    expect(second.record.curves).toEqual(first.record.curves);

    await expect(compareConvs({ ...opts, epochs: 3 })).rejects.toThrow(
      /is a finished run with other settings \(epochs\); use another out/,
    );
    await expect(compareConvs({ ...opts, workers: 2 })).rejects.toThrow(
      /is a finished run with other settings \(workers\)/,
    );
  });
});

describe('compareConvs with jobs', () => {
  it('jobs 2 trains runs side by side in worker threads and gives the same numbers as jobs 1', async () => {
    const opts = {
      preset: 'tf-mnist-sample',
      epochs: 1,
      trainLimit: 96,
      testLimit: 64,
      runs: 2,
    };
    const one = await compareConvs({ ...opts, out: path.join(root(), 'jobs1') });
    const ran: string[] = [];
    const two = await compareConvs({
      ...opts,
      jobs: 2,
      out: path.join(root(), 'jobs2'),
      onRunEnd: (s) => void ran.push(`${s.conv}${s.seed}`),
    });
    expect(ran.sort()).toEqual(['conv1', 'conv2', 'doconv1', 'doconv2']);
    expect(two.record.runs).toEqual(one.record.runs);
    expect(two.record.curves).toEqual(one.record.curves);
    expect(two.record.folded).toEqual(one.record.folded);
    // Each run's folder is complete, as with jobs 1.
    expect((await fs.readdir(path.join(root(), 'jobs2', 'runs', 'doconv-seed2'))).sort()).toEqual([
      'checkpoint',
      'curves.svg',
      'folded',
      'metrics.jsonl',
      'summary.json',
    ]);
  });

  it('names a bad job count, and a model builder that cannot cross threads', async () => {
    await expect(compareConvs({ preset: 'tf-mnist-sample', jobs: 0 })).rejects.toThrow(
      'jobs must be a positive integer, got 0',
    );
    await expect(
      compareConvs({ model: tinyModel, jobs: 2, runs: 1, epochs: 1, trainLimit: 32 }),
    ).rejects.toThrow(
      /jobs > 1 needs a zoo model name, a preset or loadModelBuilder.s builder .*got the function "tinyModel"/,
    );
  });
});
