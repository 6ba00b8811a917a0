/**
 * The CommonJS entry of `doconv/node` (package.json exports' "require" condition). doconv is
 * ES modules only (one copy of its layer classes and kernels registered with tfjs); Node versions
 * that can require() an ES module (20.19+, 22.12+) get it here, others an error saying what to do.
 */
const specifier = 'doconv/node';
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS entry itself
  module.exports = require('./node.js');
} catch (error) {
  const code = (error as { code?: string }).code;
  if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
  throw new Error(
    `${specifier} is an ES module: use \`import ... from '${specifier}'\`, or \`await import('${specifier}')\` from CommonJS ` +
      `(this Node, ${process.version}, cannot require() ES modules)`,
    { cause: error },
  );
}
