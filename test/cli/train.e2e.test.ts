/**
 * The real executable, spawned from source: `doconv train` on 300 MNIST images for one epoch writes the
 * documented files (on 2 worker threads); `eval` and `fold` read them back; a bad argument exits 1 with a one-line error.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson, tempDir } from '../train/helpers.js';
import { type CliResult, expectExitOne, spawnCli } from './runCli.js';

let root: string;
let out: string;
let trained: CliResult;
/** `doconv train --model tf-mnist-sample` with `flags`. */
const trainSample = (...flags: string[]) => ['train', '--model', 'tf-mnist-sample', ...flags];
/** The run into `out`: 300 images, on wasm and 2 worker threads. */
const trainArgs = (epochs: number) =>
  trainSample(
    ...['--epochs', String(epochs), '--train-limit', '300', '--test-limit', '300'],
    ...['--out', out, '--backend', 'wasm'],
    // the worker threads, started from a spawned CLI run from source (the tsx bootstrap)
    ...['--workers', '2'],
  );
beforeAll(async () => {
  root = await tempDir('cli');
  out = path.join(root, 'run');
  trained = await spawnCli([...trainArgs(1), '--conv', 'doconv', '--seed', '1']);
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('doconv train (spawned)', () => {
  it('exits 0 and prints the summary; progress goes to stderr as plain lines (not a TTY)', () => {
    expect(trained.code, trained.err).toBe(0);
    expect(trained.out).toMatch(/^test accuracy\s+\d+\.\d\d %/m);
    expect(trained.out).toMatch(/^folded accuracy\s+\d+\.\d\d % \(max \|Δ logits\| /m);
    // the native engine where its addon is built, else wasm's portable one
    expect(trained.out).toMatch(
      /^run\s+1 epoch, seed 1, backend wasm, engine (native \(\d+ oneDNN threads?\)|wasm), \d+ img\/s$/m,
    );
    expect(trained.err).toMatch(
      /^epoch 1\/1: train loss [\d.]+ acc [\d.]+ \| test loss [\d.]+ acc [\d.]+ \| \d+ img\/s/m,
    );
    expect(trained.err).not.toContain('\x1b['); // no bar escape codes in a pipe
    // wasm's package registers its kernels after doconv's: no "kernel … already registered" noise
    expect(trained.err).not.toMatch(/already registered/);
    // nor tfjs's "Hi, looks like you are running TensorFlow.js in Node.js" banner
    expect(trained.err + trained.out).not.toContain('TensorFlow.js in Node.js');
  });

  it('writes metrics.jsonl, checkpoint/, folded/ and summary.json', async () => {
    const metrics = (await fs.readFile(path.join(out, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.length).toBe(1);
    expect(metrics[0]).toMatchObject({ epoch: 1 });
    for (const k of [
      'trainLoss',
      'trainAccuracy',
      'testLoss',
      'testAccuracy',
      'imagesPerSecond',
      'seconds',
    ])
      expect(typeof metrics[0][k]).toBe('number');
    const summary = await readJson(path.join(out, 'summary.json'));
    for (const k of ['testAccuracy', 'foldedTestAccuracy']) {
      expect(summary[k]).toBeGreaterThan(0.1);
      expect(summary[k]).toBeLessThanOrEqual(1);
    }
    expect(Math.abs(summary.foldedTestAccuracy - summary.testAccuracy)).toBeLessThanOrEqual(0.001);
    expect(summary).toMatchObject({
      model: 'tf-mnist-sample',
      conv: 'doconv',
      seed: 1,
      trainImages: 300,
      testImages: 300,
      backend: 'wasm',
    });
    expect(summary.config.workers).toBe(2);
    expect(summary.engine.backend).toBe('wasm');
    expect(['native', 'wasm']).toContain(summary.engine.engine);
    const state = await readJson(path.join(out, 'checkpoint', 'state.json'));
    expect(state.state.engine).toEqual(summary.engine);
    expect((await fs.readdir(path.join(out, 'checkpoint'))).sort()).toEqual([
      'model.json',
      'optimizer.bin',
      'optimizer.json',
      'state.json',
      'weights.bin',
    ]);
    expect((await fs.readdir(path.join(out, 'folded'))).sort()).toEqual([
      'model.json',
      'weights.bin',
    ]);
  });

  it('eval of the checkpoint (in-process) reproduces the test accuracy', async () => {
    const { runCli } = await import('./runCli.js');
    const r = await runCli([
      'eval',
      path.join(out, 'checkpoint'),
      '--test-limit',
      '300',
      '--json',
      '--backend',
      'wasm',
    ]);
    expect(r.code, r.err).toBe(0);
    const summary = await readJson(path.join(out, 'summary.json'));
    expect(JSON.parse(r.out)).toMatchObject({
      accuracy: summary.testAccuracy,
      count: 300,
      dataset: 'mnist',
    });
  });

  it('export (spawned) writes an ONNX file and prints no tfjs banner', async () => {
    const onnx = path.join(root, 'model.onnx');
    const r = await spawnCli(['export', path.join(out, 'checkpoint'), onnx, '--format', 'onnx']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^wrote\s+.*model\.onnx/m);
    expect(r.out + r.err).not.toContain('TensorFlow.js in Node.js');
  });

  it('a bad argument exits 1 with the argument and value named', async () => {
    await expectExitOne(
      spawnCli(trainSample('--epochs', 'zero', '--out', path.join(root, 'x'))),
      "option '--epochs <n>' argument 'zero' is invalid",
    );
  });

  it('a library error exits 1 with one line, e.g. a second run into the same folder', async () => {
    await expectExitOne(
      spawnCli(
        trainSample('--epochs', '1', '--train-limit', '32', '--out', out, '--backend', 'cpu'),
      ),
      /^doconv: error: --out ".*" already holds a run .* resume it \(--resume\) or replace it \(--overwrite\)$/m,
    );
  });

  it('--resume on another engine is refused naming both; --allow-engine-change continues, saying so', async () => {
    const { runCli } = await import('./runCli.js');
    const stateFile = path.join(out, 'checkpoint', 'state.json');
    const file = await readJson(stateFile);
    // A checkpoint from the engine this run is not on.
    file.state.engine =
      file.state.engine.engine === 'native'
        ? { backend: 'wasm', engine: 'wasm', oneDnn: null, threads: null }
        : { backend: 'wasm', engine: 'native', oneDnn: '2.6.3', threads: 7 };
    await fs.writeFile(stateFile, JSON.stringify(file));
    const args = [...trainArgs(2), '--no-fold', '--resume'];
    const refused = await runCli(args);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(
      /^doconv: error: cannot resume .*checkpoint: it was trained on engine (wasm|native \(7 oneDNN threads\)), this process runs (native \(\d+ oneDNN threads?\)|wasm); resume on the same engine .* or pass --allow-engine-change to continue on this one/m,
    );
    // spawned: the note goes to stderr with the progress lines
    const continued = await spawnCli([...args, '--allow-engine-change']);
    expect(continued.code, continued.err).toBe(0);
    expect(continued.err).toMatch(/^engine changed: .*checkpoint was trained on /m);
    expect(continued.out).toMatch(/^run\s+2 epochs, seed 1, backend wasm, engine /m);
  });
});
