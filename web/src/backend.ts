/**
 * Backend choice: 'auto' takes webgl when the browser has a GPU behind it, else wasm with doconv's
 * training kernels (the stock wasm backend cannot train convolutions), else cpu. A software WebGL
 * (SwiftShader, llvmpipe — what headless and GPU-less browsers offer) trains ~50× slower than wasm,
 * so 'auto' skips it; choosing 'webgl' explicitly still uses it. WebGPU is offered where the
 * browser has an adapter, chosen explicitly (tfjs's WebGPU backend is younger than its WebGL one).
 * The wasm binaries come from this site (WASM_DIR).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { registerWasmTrainingKernels, wasmTrainingKernelsRegistered } from '../../src/index.js';
import { WASM_DIR } from './siteFiles.js';

export type BackendChoice = 'auto' | 'webgl' | 'webgpu' | 'wasm' | 'cpu';
export const backendChoices: readonly BackendChoice[] = ['auto', 'webgl', 'webgpu', 'wasm', 'cpu'];

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

export interface SelectedBackend {
  name: string;
  /** Why 'auto' did not take webgl, when it did not ('' otherwise). */
  note: string;
}

let wasmPathsSet = false;
/** The adapter webgpu runs on, for describeBackend(). */
let webgpuName = '';

async function trySet(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/** The WebGL renderer's name ('' without WebGL; 'unknown' when the browser hides it). */
export function webglRenderer(): string {
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    if (!gl) return '';
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = info
      ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL))
      : String(gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return name || 'unknown';
  } catch {
    return '';
  }
}

interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  description?: string;
}
type NavigatorGpu = { gpu?: { requestAdapter(): Promise<{ info?: GpuAdapterInfo } | null> } };

/** The WebGPU adapter's name ('' without WebGPU: no navigator.gpu, or no adapter). */
export async function webgpuAdapter(): Promise<string> {
  try {
    const adapter = await (navigator as unknown as NavigatorGpu).gpu?.requestAdapter();
    if (adapter == null) return '';
    const info = adapter.info ?? {};
    return (
      [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown'
    );
  } catch {
    return '';
  }
}

/** The choices this browser can run: webgl and webgpu only where it has them. */
export async function availableChoices(): Promise<BackendChoice[]> {
  const gpu = await webgpuAdapter();
  return backendChoices.filter(
    (c) =>
      (c !== 'webgl' || webglRenderer() !== '') &&
      (c !== 'webgpu' || gpu !== '') &&
      (c !== 'wasm' || typeof WebAssembly === 'object'),
  );
}

/** Switches to the chosen backend (for 'auto', the fastest one likely to be here). */
export async function selectBackend(choice: BackendChoice): Promise<SelectedBackend> {
  if (!wasmPathsSet) {
    setWasmPaths(new URL(WASM_DIR, document.baseURI).href);
    wasmPathsSet = true;
  }
  // Importing tfjs-backend-wasm (above) registered its own Conv2DBackpropInput after doconv's: put ours back.
  registerWasmTrainingKernels();
  let order: string[] = [choice];
  let note = '';
  if (choice === 'auto') {
    const renderer = webglRenderer();
    const software = renderer !== '' && SOFTWARE_RENDERER.test(renderer);
    order = software ? ['wasm', 'webgl', 'cpu'] : ['webgl', 'wasm', 'cpu'];
    if (software)
      note = `WebGL here is software-only (${renderer}), slower than wasm; choose WebGL to use it anyway.`;
    else if (renderer === '') note = 'This browser has no WebGL.';
  }
  if (choice === 'webgpu') webgpuName = await webgpuAdapter();
  for (const name of order) {
    if (tf.getBackend() === name || (await trySet(name))) {
      await tf.ready();
      return { name, note: name === 'webgl' ? '' : note };
    }
  }
  throw new Error(`No backend of ${JSON.stringify(order)} could be initialised in this browser`);
}

/** One line on what the current backend runs on (WebGL version and renderer, wasm SIMD/threads). */
export function describeBackend(): string {
  const name = tf.getBackend();
  const env = tf.env();
  if (name === 'webgl') {
    const renderer = webglRenderer();
    return `webgl (WebGL ${env.getNumber('WEBGL_VERSION')}${renderer ? `, ${renderer}` : ''})`;
  }
  if (name === 'wasm') {
    const simd = env.getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
    const threads = env.getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threads' : 'single thread';
    const kernels = wasmTrainingKernelsRegistered() ? "doconv's training kernels" : 'stock kernels';
    return `wasm (${simd}, ${threads}, ${kernels})`;
  }
  if (name === 'webgpu') return `webgpu (${webgpuName || 'adapter unknown'})`;
  return name;
}
