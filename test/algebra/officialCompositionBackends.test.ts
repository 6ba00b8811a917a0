/**
 * The official layers' compositions run on every backend (they used tf.einsum, which wasm lacks, so
 * importing an official grouped checkpoint failed there) and give the cpu backend's values.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import '../../src/engine/register.js';
import {
  officialKerasKernel,
  officialPytorchKernel,
} from '../../src/algebra/officialComposition.js';
import { relativeError } from '../helpers/tolerance.js';

/** kernel values on `backend` for a grouped 3×3 layer: C = 4, F = 6, g = 2, dMul = 9. */
async function kernels(backend: string): Promise<{ keras: Float32Array; pytorch: Float32Array }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const dHatKeras = tf.randomNormal([9, 9, 4], 0, 1, 'float32', 1) as tf.Tensor3D;
    const wKeras = tf.randomNormal([9, 2, 6], 0, 1, 'float32', 2) as tf.Tensor3D;
    const dHatTorch = tf.randomNormal([4, 9, 9], 0, 1, 'float32', 3) as tf.Tensor3D;
    const wTorch = tf.randomNormal([6, 2, 9], 0, 1, 'float32', 4) as tf.Tensor3D;
    return {
      keras: officialKerasKernel(wKeras, dHatKeras, [3, 3], 2).dataSync() as Float32Array,
      pytorch: officialPytorchKernel(wTorch, dHatTorch, [3, 3], 2).dataSync() as Float32Array,
    };
  });
}

describe('official compositions on wasm', () => {
  it('equal the cpu backend', async () => {
    const cpu = await kernels('cpu');
    const wasm = await kernels('wasm');
    expect(relativeError(wasm.keras, cpu.keras)).toBeLessThan(1e-6);
    expect(relativeError(wasm.pytorch, cpu.pytorch)).toBeLessThan(1e-6);
  });
});
