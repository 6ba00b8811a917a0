/**
 * The OpenMP waiting policy the addon loads with (nativeAddon.ts applyWaitPolicy): passive unless
 * the user chose one. (Its effect on speed under load is measured by bench/waitPolicy.ts.)
 */
import { describe, expect, it } from 'vitest';
import { applyWaitPolicy } from '../../src/engine/native/nativeAddon.js';

describe('native addon waiting policy', () => {
  it('is passive when the environment sets neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/bin' };
    applyWaitPolicy(env);
    expect(env).toEqual({ PATH: '/bin', OMP_WAIT_POLICY: 'passive' });
  });

  it("keeps the user's own choice", () => {
    const active: NodeJS.ProcessEnv = { OMP_WAIT_POLICY: 'active' };
    applyWaitPolicy(active);
    expect(active).toEqual({ OMP_WAIT_POLICY: 'active' });
    const spin: NodeJS.ProcessEnv = { GOMP_SPINCOUNT: '10000' };
    applyWaitPolicy(spin);
    expect(spin).toEqual({ GOMP_SPINCOUNT: '10000' });
  });
});
