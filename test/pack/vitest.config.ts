import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The pack lane (`npm run test:pack`): `npm pack` of the built package, installed offline into a
// fresh app (test/pack/packedApp.ts), used as an npm user would. Needs `npm run build` first (the
// script does it) and npm's cache holding the repository's dependencies (any `npm ci` fills it).
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/pack/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
