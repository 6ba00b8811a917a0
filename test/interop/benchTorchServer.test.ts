/**
 * The PyTorch side of the zoo rounds, for real: bench/torch_train.py --serve builds the
 * tools/doconv_torch twin, times it and answers one JSON line per job; a bad job comes back as an
 * error naming the net, and the process goes on serving.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { findTorchPython, TorchServer, type TorchJob } from '../../bench/torchServer.js';

const python = findTorchPython();
const job = (over: Partial<TorchJob>): TorchJob => ({
  net: 'tf-mnist-sample',
  variants: ['conv', 'doconv'],
  batch: 2,
  inputShape: [28, 28, 1],
  numClasses: 10,
  task: 'classification',
  warmup: 1,
  windows: 2,
  steps: 1,
  ...over,
});

describe.runIf(python !== undefined)('bench PyTorch server', () => {
  const server = python ? new TorchServer(python, 1, process.env) : null;
  afterAll(() => server?.close());

  it('times both variants of a zoo twin, with windows, CPU time and peak memory', async () => {
    const rows = await server!.run(job({}));
    expect(rows.map((r) => r.variant)).toEqual(['conv', 'doconv']);
    for (const r of rows) {
      expect(r.net).toBe('tf-mnist-sample');
      expect(r.windows).toHaveLength(2);
      expect(r.cpuMsWindows).toHaveLength(2);
      expect(r.windows.every((w) => w > 0)).toBe(true);
      expect(r.stepsPerWindow).toBe(1);
      expect(r.threads).toBe(1);
      expect(r.peakRssBytes).toBeGreaterThan(10 * 2 ** 20);
      expect(Number.isFinite(r.firstLoss)).toBe(true);
    }
  }, 120_000);

  it('trains the task nets with their losses, and reports a bad job without stopping', async () => {
    await expect(server!.run(job({ net: 'resnet-21' }))).rejects.toThrow(
      "PyTorch side, resnet-21: ValueError: unknown model 'resnet-21'",
    );
    const seg = await server!.run(
      job({
        net: 'deeplab-mini',
        variants: ['doconv'],
        inputShape: [64, 64, 1],
        numClasses: 11,
        task: 'segmentation',
        windows: 1,
      }),
    );
    // softmax cross-entropy over 11 classes starts near ln 11
    expect(seg[0].firstLoss).toBeGreaterThan(1);
    expect(seg[0].firstLoss).toBeLessThan(5);
  }, 120_000);
});
