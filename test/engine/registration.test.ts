/**
 * Registration order and robustness. This file imports doconv's root *before* the wasm backend
 * (dynamic imports keep the order explicit; helpers.js has no side effects), the order in which
 * doconv must wait for the wasm backend to be set (test/engine/quietImport.test.ts: and say nothing).
 */
import * as tf from '@tensorflow/tfjs';
import { nativeAddonStatus } from '../../src/engine/native/nativeAddon.js';
import { describe, expect, it } from 'vitest';
import { conv2DBackpropInputConfig } from '../../src/engine/kernels/Conv2DBackpropInput.js';
import { wasmTrainingKernelsRegistered } from '../../src/engine/registerWasmTrainingKernels.js';
import { host, relativeError } from './helpers.js';

describe('registration', () => {
  it('importing doconv before wasm defers the kernels to the first setBackend("wasm"), silently', async () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    const doconv = await import('../../src/index.js');
    // Registering now would make wasm's register_all_kernels warn once per replaced kernel.
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeUndefined();
    expect(tf.getKernel('DoconvWasmTrainingKernelsGuard', 'wasm')).toBeDefined();
    await import('@tensorflow/tfjs-backend-wasm');
    // wasm's register_all_kernels has just registered its stock Conv2DBackpropInput.
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).not.toBe(
      conv2DBackpropInputConfig.kernelFunc,
    );
    expect(doconv.wasmTrainingKernelsRegistered()).toBe(false);
    await tf.setBackend('wasm');
    expect(doconv.wasmTrainingKernelsRegistered()).toBe(true);
  });

  it('a late re-registration of the stock kernel is undone by the next setBackend("wasm")', async () => {
    const { registerWasmTrainingKernels, wasmTrainingKernelsRegistered } =
      await import('../../src/index.js');
    await tf.setBackend('wasm');
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({
      kernelName: 'Conv2DBackpropInput',
      backendName: 'wasm',
      kernelFunc: () => {
        throw new Error('stock');
      },
    });
    expect(wasmTrainingKernelsRegistered()).toBe(false);
    await tf.setBackend('cpu');
    await tf.setBackend('wasm');
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    registerWasmTrainingKernels(); // idempotent
    expect(wasmTrainingKernelsRegistered()).toBe(true);
  });

  it('the guard kernel is not an op', async () => {
    await tf.setBackend('wasm');
    expect(() => tf.engine().runKernel('DoconvWasmTrainingKernelsGuard', {}, {})).toThrow(
      /registration hook/,
    );
  });
});

describe('tf.conv2dTranspose on wasm (runs our Conv2DBackpropInput) matches cpu', () => {
  const cases: Array<[number, 'same' | 'valid', number]> = [
    [1, 'same', 3],
    [2, 'same', 3],
    [2, 'valid', 3],
    [2, 'same', 4],
    [3, 'valid', 2],
    [2, 'same', 1],
  ];
  it.each(cases)('stride %i pad %s kernel %i', async (s, pad, k) => {
    const x = host([2, 5, 4, 6], 1);
    const f = host([k, k, 3, 6], 2);
    const outH = pad === 'same' ? 5 * s : (5 - 1) * s + k;
    const outW = pad === 'same' ? 4 * s : (4 - 1) * s + k;
    const run = async (b: string) => {
      await tf.setBackend(b);
      const y = tf.conv2dTranspose(
        tf.tensor4d(x.values, [2, 5, 4, 6]),
        tf.tensor4d(f.values, [k, k, 3, 6]),
        [2, outH, outW, 3],
        s,
        pad,
      );
      const v = await y.data();
      y.dispose();
      return v;
    };
    const want = await run('cpu');
    expect(relativeError(await run('wasm'), want)).toBeLessThan(2e-5);
  });
});

describe('wasm inference unchanged', () => {
  it('a conv model predicts the same on wasm as on cpu', async () => {
    await tf.setBackend('cpu');
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [8, 8, 3],
          filters: 4,
          kernelSize: 3,
          strides: 2,
          activation: 'relu',
        }),
        tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const x = host([2, 8, 8, 3], 3);
    const want = await (m.predict(tf.tensor(x.values, x.shape)) as tf.Tensor).data();
    await tf.setBackend('wasm');
    const got = await (m.predict(tf.tensor(x.values, x.shape)) as tf.Tensor).data();
    expect(relativeError(got, want)).toBeLessThan(1e-5);
  });
});

describe('useBestBackend', () => {
  it('picks doconv-native (addon built) or wasm when tfjs-node is absent, logs one line naming backend and engine, returns them', async () => {
    const { useBestBackend } = await import('../../src/engine/useBestBackend.js');
    const logs: string[] = [];
    const chosen = await useBestBackend({ log: (m) => logs.push(m) });
    let nodeInstalled = true;
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      nodeInstalled = false;
    }
    const nativeBuilt = nativeAddonStatus().addon != null && process.env.DOCONV_ENGINE !== 'wasm';
    expect(chosen.backend).toBe(
      nodeInstalled ? 'tensorflow' : nativeBuilt ? 'doconv-native' : 'wasm',
    );
    if (chosen.backend === 'doconv-native') {
      expect(chosen).toMatchObject({ engine: 'native', native: { on: true } });
      expect(logs[0]).toMatch(/oneDNN .*thread\(s\) per training thread/);
    }
    expect(tf.getBackend()).toBe(chosen.backend);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(
      `doconv: using backend '${chosen.backend}', engine '${chosen.engine}'`,
    );
    if (chosen.backend === 'wasm') {
      // The addon is not built (or disabled): wasm's kernels, with the line saying how to enable it.
      expect(chosen.engine).toBe('wasm');
      if (!chosen.native?.on && chosen.native?.reason === 'not built') {
        expect(logs[0]).toMatch(
          /native engine off \(not built\); to enable it: .*libdnnl-dev.*npx doconv build-native/,
        );
      }
    }
    // Leave the portable kernels for the other tests of this file.
    await useBestBackend({ log: () => {}, engine: 'wasm' });
  });

  it("engine: 'wasm' forces the portable kernels", async () => {
    const { useBestBackend } = await import('../../src/engine/useBestBackend.js');
    const chosen = await useBestBackend({ candidates: ['wasm'], engine: 'wasm', log: () => {} });
    expect(chosen).toMatchObject({ backend: 'wasm', engine: 'wasm', native: { on: false } });
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    await expect(
      useBestBackend({ candidates: ['wasm'], engine: 'fast' as 'wasm', log: () => {} }),
    ).rejects.toThrow(/engine must be 'auto' or 'wasm', got "fast"/);
  });

  it("asked for wasm by name with the addon built, runs the native kernels over wasm's heap", async () => {
    const { useBestBackend } = await import('../../src/engine/useBestBackend.js');
    if (nativeAddonStatus().addon == null || process.env.DOCONV_ENGINE === 'wasm') return;
    const chosen = await useBestBackend({ candidates: ['wasm'], log: () => {} });
    expect(chosen).toMatchObject({ backend: 'wasm', engine: 'native', native: { on: true } });
    await useBestBackend({ candidates: ['wasm'], engine: 'wasm', log: () => {} });
  });

  it("engine: 'wasm' skips doconv-native", async () => {
    const { useBestBackend } = await import('../../src/engine/useBestBackend.js');
    const chosen = await useBestBackend({
      candidates: ['doconv-native', 'wasm'],
      engine: 'wasm',
      log: () => {},
    });
    expect(chosen).toMatchObject({ backend: 'wasm', engine: 'wasm' });
  });

  it('honours candidates and names a bad one', async () => {
    const { useBestBackend } = await import('../../src/engine/useBestBackend.js');
    expect(await useBestBackend({ candidates: ['cpu'], log: () => {} })).toEqual({
      backend: 'cpu',
      engine: 'cpu',
      native: undefined,
    });
    await expect(useBestBackend({ candidates: ['gpu' as 'cpu'], log: () => {} })).rejects.toThrow(
      /unknown candidate "gpu"/,
    );
  });
});
