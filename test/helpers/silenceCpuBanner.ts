/**
 * vitest setup (vitest.config.ts): no tfjs "Hi, looks like you are running TensorFlow.js in
 * Node.js" banner in test output — tests on the cpu backend import doconv's modules, not doconv/node.
 */
import { silenceNodeBanner } from '../../src/cli/quietTfjs.js';

silenceNodeBanner();
