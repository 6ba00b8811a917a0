/**
 * Debian's chromium driven by playwright-core (no browser download): headless, sandbox off (root in
 * CI), every background network feature off, a fresh profile (--user-data-dir) per launch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * 'wasm': GPU off. 'webgl': SwiftShader's software WebGL instead of a GPU. 'gpu': SwiftShader's
 * WebGL and WebGPU (Chromium's WebGPU is behind --enable-unsafe-webgpu on Linux).
 */
export type BrowserMode = 'wasm' | 'webgl' | 'gpu';

const COMMON_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** The screen the page is shown on. */
export interface Device {
  viewport: { width: number; height: number };
  /** A phone: meta viewport honoured, touch events, a 3× screen. */
  phone?: boolean;
}

/** The desktop the issue was measured on. */
export const DESKTOP: Device = { viewport: { width: 1280, height: 900 } };
/** A 390×844 phone (iPhone 12–14 size) with touch. */
export const PHONE: Device = { viewport: { width: 390, height: 844 }, phone: true };

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(
  mode: BrowserMode,
  device: Device = DESKTOP,
): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'doconv-e2e-chromium-'));
  const swiftshader = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
  const gpuArgs =
    mode === 'wasm'
      ? ['--disable-gpu']
      : mode === 'webgl'
        ? swiftshader
        : [...swiftshader, '--enable-unsafe-webgpu'];
  // A persistent context is how playwright takes --user-data-dir (it refuses the raw flag).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...COMMON_ARGS, ...gpuArgs],
    acceptDownloads: true,
    viewport: device.viewport,
    ...(device.phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 3 } : {}),
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
