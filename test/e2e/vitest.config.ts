import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The e2e lane (`npm run test:e2e`): the built playground in Debian's chromium. Needs web/dist
// (npm run build:web) and /usr/bin/chromium (apt-get install chromium).
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/e2e/**/*.test.ts'],
    // No tfjs "Hi, looks like you are running TensorFlow.js in Node.js" banner in the output.
    setupFiles: ['test/helpers/silenceCpuBanner.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['default', './test/e2e/countReporter.ts'],
  },
});
