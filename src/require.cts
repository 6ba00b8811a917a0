/** The CommonJS entry of `doconv`: the ES module itself where Node can require() it (cjsEntry.cts). */
import { requireEsm } from './cjsEntry.cjs';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS entry itself
module.exports = requireEsm('doconv', () => require('./index.js'));
