import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/interop/**', 'test/e2e/**', 'test/pack/**', 'node_modules/**'],
    setupFiles: ['test/helpers/silenceCpuBanner.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
