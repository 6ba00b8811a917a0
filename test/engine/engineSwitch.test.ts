/**
 * The engine's state has one switch: native (doconv-native) → wasm → native over wasm → native,
 * each step checked by what runs — the kernel registered for the op on the active backend, and the
 * addon's primitive cache, which grows only when a native conv runs a new shape.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, expect, it } from 'vitest';
import { currentEngine, engineState, nativeEngineInUse } from '../../src/engine/engineState.js';
import { disableNativeEngine, enableNativeEngine } from '../../src/engine/native/enableNative.js';
import {
  nativeBackendKernelConfigs,
  nativeKernelConfigs,
} from '../../src/engine/native/nativeKernels.js';
import { wasmTrainingKernelConfigs } from '../../src/engine/registerWasmTrainingKernels.js';
import { useBestBackend } from '../../src/engine/useBestBackend.js';
import { addon, describeNative, skipReason } from './nativeSetup.js';

afterAll(() => disableNativeEngine());

let width = 5;
/** Runs a conv and its filter gradient on a shape no earlier call used; whether the addon ran them. */
function convRanNatively(): boolean {
  const before = addon!.stats().cacheEntries;
  width += 1; // a new shape: a native conv must make (and cache) a new primitive
  tf.tidy(() => {
    const x = tf.ones([1, 6, width, 2]) as tf.Tensor4D;
    const w = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
    const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, w, 1, 'same')))([x]);
    // every output pixel sums 3·3·2 ones where the window fits: the centre is 18
    expect(tf.conv2d(x, w, 1, 'same').arraySync()[0][2][2]).toEqual([18, 18]);
    dx.dataSync();
  });
  return addon!.stats().cacheEntries > before;
}

const registered = (kernel: string) => tf.getKernel(kernel, tf.getBackend())?.kernelFunc;
const funcOf = (configs: readonly tf.KernelConfig[], kernel: string) =>
  configs.find((c) => c.kernelName === kernel)?.kernelFunc;

describeNative(`switching engines${skipReason}`, () => {
  it('native → wasm → native over wasm → native: the state and the kernels that run follow', async () => {
    let chosen = await useBestBackend({ candidates: ['doconv-native'] });
    expect(chosen).toMatchObject({ backend: 'doconv-native', engine: 'native' });
    expect(currentEngine()).toBe('native');
    expect(nativeEngineInUse()).toMatchObject({ threads: addon!.getThreads() });
    expect(registered(tf.Conv2D)).toBe(funcOf(nativeBackendKernelConfigs, tf.Conv2D));
    expect(convRanNatively()).toBe(true);

    chosen = await useBestBackend({ candidates: ['wasm'], engine: 'wasm' });
    expect(chosen).toMatchObject({ backend: 'wasm', engine: 'wasm' });
    expect(engineState().wasmKernelSet).toBe('wasm');
    expect(currentEngine()).toBe('wasm');
    expect(nativeEngineInUse()).toBeNull();
    expect(registered(tf.Conv2DBackpropFilter)).toBe(
      funcOf(wasmTrainingKernelConfigs, tf.Conv2DBackpropFilter),
    );
    expect(convRanNatively()).toBe(false);

    expect(enableNativeEngine().on).toBe(true);
    expect(currentEngine()).toBe('native');
    expect(registered(tf.Conv2DBackpropFilter)).toBe(
      funcOf(nativeKernelConfigs, tf.Conv2DBackpropFilter),
    );
    expect(convRanNatively()).toBe(true);

    disableNativeEngine();
    expect(currentEngine()).toBe('wasm');
    expect(convRanNatively()).toBe(false);

    await tf.setBackend('doconv-native');
    expect(currentEngine()).toBe('native');
    expect(convRanNatively()).toBe(true);
  });
});

describeNative(`doconv-native's inputs${skipReason}`, () => {
  it('takes float32 tensors whose cpu kernel left another array type (a cast, oneHot)', async () => {
    await useBestBackend({ candidates: ['doconv-native'] });
    const got = tf.tidy(() => {
      const labels = tf.cast(tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3), 'float32');
      const counts = tf.cast(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), 'float32');
      return tf.mul(tf.add(labels, counts), 2).arraySync();
    });
    expect(got).toEqual([
      [4, 4, 6],
      [2, 4, 8],
    ]);
  });
});
