import { defineConfig } from 'vitest/config';

// The interop lane: needs python3 with torch (Debian python3-torch); CI installs it.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    setupFiles: ['test/helpers/silenceCpuBanner.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
