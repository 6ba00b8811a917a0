/**
 * Backend choice: webgl when the browser has it, else wasm with doconv's training kernels (the stock
 * wasm backend cannot train convolutions), else cpu. The wasm binaries come from this site (WASM_DIR).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, wasmTrainingKernelsRegistered } from '../../src/index.js';
import { WASM_DIR } from './siteFiles.js';

export type BackendChoice = 'auto' | 'webgl' | 'wasm' | 'cpu';
export const backendChoices: readonly BackendChoice[] = ['auto', 'webgl', 'wasm', 'cpu'];

const AUTO_ORDER = ['webgl', 'wasm', 'cpu'] as const;

let wasmPathsSet = false;

async function trySet(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/** Switches to the chosen backend (or the best one for 'auto') and returns its name. */
export async function selectBackend(choice: BackendChoice): Promise<string> {
  if (!wasmPathsSet) {
    setWasmPaths(new URL(WASM_DIR, document.baseURI).href);
    wasmPathsSet = true;
  }
  // Importing tfjs-backend-wasm (above) registered its own Conv2DBackpropInput after doconv's: put ours back.
  registerWasmTrainingKernels();
  const order = choice === 'auto' ? AUTO_ORDER : [choice];
  for (const name of order) {
    if (tf.getBackend() === name || (await trySet(name))) {
      await tf.ready();
      return name;
    }
  }
  throw new Error(`No backend of ${JSON.stringify(order)} could be initialised in this browser`);
}

/** One line on what the current backend is running on (WebGL version, wasm SIMD/threads). */
export function describeBackend(): string {
  const name = tf.getBackend();
  const env = tf.env();
  if (name === 'webgl') {
    return `webgl (WebGL ${env.getNumber('WEBGL_VERSION')}${webglRenderer()})`;
  }
  if (name === 'wasm') {
    const simd = env.getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
    const threads = env.getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threads' : 'single thread';
    const kernels = wasmTrainingKernelsRegistered() ? "doconv's training kernels" : 'stock kernels';
    return `wasm (${simd}, ${threads}, ${kernels})`;
  }
  return name;
}

function webglRenderer(): string {
  try {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
    return renderer ? `, ${renderer}` : '';
  } catch {
    return '';
  }
}
