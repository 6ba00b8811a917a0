/** The CommonJS entry of `doconv/node`: the ES module itself where Node can require() it (cjsEntry.cts). */
import { requireEsm } from './cjsEntry.cjs';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS entry itself
module.exports = requireEsm('doconv/node', () => require('./node.js'));
