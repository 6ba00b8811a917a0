/**
 * What the CommonJS entries (require.cts, requireNode.cts; package.json exports' "require"
 * condition) share. doconv is ES modules only (one copy of its layer classes and kernels registered
 * with tfjs); Node versions that can require() an ES module (20.19+, 22.12+) get it, others an error
 * saying what to do.
 */
export function requireEsm(specifier: string, load: () => unknown): unknown {
  try {
    return load();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
    throw new Error(
      `${specifier} is an ES module: use \`import ... from '${specifier}'\`, or \`await import('${specifier}')\` from CommonJS ` +
        `(this Node, ${process.version}, cannot require() ES modules)`,
      { cause: error },
    );
  }
}
