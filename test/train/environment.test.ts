/** The engine record and the resume rule built on it (the trainers' use: trainModel/taskTraining tests). */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { nativeThreadsFor } from '../../src/engine/native/nativeAddon.js';
import { jobsThreadsNote } from '../../src/train/comparisonPool.js';
import '../engine/wasmSetup.js';
import { addon, skipReason } from '../engine/nativeSetup.js';
import { disableNativeEngine, enableNativeEngine } from '../../src/engine/native/enableNative.js';
import {
  checkResumeEngine,
  describeEngine,
  engineRecord,
  type EngineRecord,
  selectBackend,
} from '../../src/train/index.js';

const wasm: EngineRecord = { backend: 'wasm', engine: 'wasm', oneDnn: null, threads: null };
const native = (threads: number): EngineRecord => ({
  backend: 'wasm',
  engine: 'native',
  oneDnn: '2.6.3',
  threads,
});

afterAll(() => disableNativeEngine());

describe('engineRecord / selectBackend', () => {
  it('on wasm with the native engine off: engine wasm, no oneDNN fields', async () => {
    await tf.setBackend('wasm');
    disableNativeEngine();
    expect(engineRecord()).toEqual(wasm);
    expect(await selectBackend(undefined)).toEqual(wasm);
  });

  it('on cpu: engine cpu', async () => {
    expect(await selectBackend('cpu')).toEqual({
      backend: 'cpu',
      engine: 'cpu',
      oneDnn: null,
      threads: null,
    });
    await tf.setBackend('wasm');
  });

  const onNative = addon == null ? it.skip : it;
  onNative(`on the native engine: oneDNN's version and thread count${skipReason}`, async () => {
    await tf.setBackend('wasm');
    expect(enableNativeEngine().on).toBe(true);
    try {
      expect(await selectBackend(undefined)).toEqual({
        backend: 'wasm',
        engine: 'native',
        oneDnn: addon!.oneDnnVersion(),
        threads: addon!.getThreads(),
      });
    } finally {
      disableNativeEngine();
    }
  });
});

describe('describeEngine', () => {
  it('names the engine, and on native the oneDNN thread count', () => {
    expect(describeEngine(wasm)).toBe('wasm');
    expect(describeEngine(native(1))).toBe('native (1 oneDNN thread)');
    expect(describeEngine(native(7))).toBe('native (7 oneDNN threads)');
  });
});

describe('checkResumeEngine', () => {
  const logged: string[] = [];
  const log = (m: string) => void logged.push(m);

  it('the same engine and thread count resumes silently; so does a checkpoint without a record', () => {
    checkResumeEngine(wasm, { ...wasm }, 'ck', false, log);
    // The oneDNN version is recorded, not compared.
    checkResumeEngine(native(1), { ...native(1), oneDnn: '2.7.0' }, 'ck', false, log);
    checkResumeEngine(undefined, native(2), 'ck', false, log);
    expect(logged).toEqual([]);
  });

  const refused: Array<[string, EngineRecord, EngineRecord, string, string]> = [
    ['another engine', native(1), wasm, 'native (1 oneDNN thread)', 'wasm'],
    ['the other way round', wasm, native(1), 'wasm', 'native (1 oneDNN thread)'],
    [
      'another thread count',
      native(7),
      native(1),
      'native (7 oneDNN threads)',
      'native (1 oneDNN thread)',
    ],
    ['another backend', { ...wasm, backend: 'cpu', engine: 'cpu' }, wasm, 'cpu', 'wasm'],
  ];
  for (const [name, saved, now, was, is] of refused) {
    it(`${name}: refused naming the checkpoint, both engines and the way out; allowed with a note`, () => {
      let message = '';
      try {
        checkResumeEngine(saved, now, 'runs/x/checkpoint', false, log);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toBe(
        `cannot resume runs/x/checkpoint: it was trained on engine ${was}, this process runs ${is}; ` +
          'resume on the same engine (DOCONV_ENGINE=wasm forces wasm; DOCONV_NATIVE_THREADS sets the native thread count), ' +
          'or pass allowEngineChange: true to continue on this one — the run will then differ from an uninterrupted one',
      );
      logged.length = 0;
      checkResumeEngine(saved, now, 'runs/x/checkpoint', true, log);
      expect(logged).toEqual([
        `engine changed: runs/x/checkpoint was trained on ${was}, continuing on ${is} (allowEngineChange); the run will differ from an uninterrupted one`,
      ]);
    });
  }
});

describe('native threads: one training thread gets every core, concurrent ones share them', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('splits the cores among concurrent training threads, at least one each', () => {
    vi.stubEnv('DOCONV_NATIVE_THREADS', '');
    const cores = os.availableParallelism();
    expect(nativeThreadsFor(1)).toBe(cores);
    expect(nativeThreadsFor(2)).toBe(Math.max(1, Math.floor(cores / 2)));
    expect(nativeThreadsFor(cores * 4)).toBe(1);
  });

  it('DOCONV_NATIVE_THREADS overrides, and a bad value is named', () => {
    vi.stubEnv('DOCONV_NATIVE_THREADS', '3');
    expect(nativeThreadsFor(2)).toBe(3);
    vi.stubEnv('DOCONV_NATIVE_THREADS', 'two');
    expect(() => nativeThreadsFor(1)).toThrow(
      'DOCONV_NATIVE_THREADS must be a whole number from 1 to 1024, got "two"',
    );
  });

  it('compare --jobs says how side-by-side runs share them (native engine only)', () => {
    vi.stubEnv('DOCONV_NATIVE_THREADS', '1');
    expect(jobsThreadsNote(native(2), 2)).toBe('doconv: 2 runs side by side, 1 oneDNN thread each');
    expect(jobsThreadsNote(native(2), 1)).toBeNull();
    expect(jobsThreadsNote(wasm, 2)).toBeNull();
  });
});
