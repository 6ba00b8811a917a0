/**
 * A fresh app with the packed doconv installed, offline: `npm pack`, then an app folder whose
 * package-lock.json is cut from the repository's (the packages the app needs, at the versions
 * tested here), installed with `npm ci --offline` from npm's cache. This machine's prebuilt
 * platform package (npm/<target>, `npm run build:platform`) is packed too when it is built, and
 * installed as npm would install it from the registry: as doconv's optional dependency. Used by
 * pack.test.ts and by bench/packageSize.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join, posix } from 'node:path';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  [key: string]: unknown;
}

/** The entry's install path for `name` seen from `from` (a lockfile path), by Node's lookup. */
function resolveIn(
  packages: Record<string, LockEntry>,
  from: string,
  name: string,
): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = posix.join(dir, 'node_modules', name);
    if (packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

/**
 * The lockfile entries `roots` need, from the repository's lockfile: dependencies, peer dependencies
 * and installed optional ones, transitively; optional peers only when listed in `roots`. Entries
 * reached as optional dependencies (`optionalRoots` among the roots) keep `optional: true`, so npm
 * skips them where it cannot install them.
 */
export function lockClosure(
  repoLock: { packages: Record<string, LockEntry> },
  roots: Record<string, string>,
  optionalRoots: Set<string> = new Set(),
): Record<string, LockEntry> {
  const { packages } = repoLock;
  const out: Record<string, LockEntry> = {};
  const visit = (from: string, deps: Record<string, string>, optional: Set<string>) => {
    for (const name of Object.keys(deps)) {
      const at = resolveIn(packages, from, name);
      if (at == null) {
        if (optional.has(name)) continue;
        throw new Error(
          `pack test: ${name} (needed by '${from || 'the app'}') is not in package-lock.json`,
        );
      }
      if (out[at]) continue;
      const entry = { ...packages[at] };
      for (const k of ['dev', 'optional', 'devOptional', 'peer']) delete entry[k];
      if (optional.has(name)) entry.optional = true;
      if (!entry.resolved && entry.version) {
        const base = name.split('/').pop();
        entry.resolved = `https://registry.npmjs.org/${name}/-/${base}-${entry.version}.tgz`;
      }
      out[at] = entry;
      const peers = Object.keys(entry.peerDependencies ?? {}).filter(
        (p) => !entry.peerDependenciesMeta?.[p]?.optional,
      );
      visit(
        at,
        {
          ...entry.dependencies,
          ...entry.optionalDependencies,
          ...Object.fromEntries(peers.map((p) => [p, '*'])),
        },
        new Set(Object.keys(entry.optionalDependencies ?? {})),
      );
    }
  };
  visit('', roots, optionalRoots);
  return out;
}

export interface PackedApp {
  dir: string;
  tarball: string;
  /** The platform package's tarball, when it was built and installed. */
  platformTarball?: string;
  /** `npm ci` output, for failures. */
  log: string;
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** `npm pack` of the package in `dir` into `workDir` (its `prepack` runs first); the tarball's path. */
function pack(dir: string, workDir: string): string {
  const packed = execFileSync(npm, ['pack', '--silent', '--pack-destination', workDir], {
    cwd: dir,
    encoding: 'utf8',
  }).trim();
  return join(workDir, basename(packed.split('\n').pop()!));
}

/** The lock entry npm writes for a tarball dependency, from the package.json inside it. */
function tarballEntry(tarball: string, optional: boolean): LockEntry {
  const pkg = JSON.parse(
    execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
  );
  const entry: LockEntry = {
    version: pkg.version,
    resolved: `file:../${basename(tarball)}`,
    integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
  };
  for (const k of [
    'license',
    'dependencies',
    'optionalDependencies',
    'peerDependencies',
    'peerDependenciesMeta',
    'bin',
    'engines',
    'os',
    'cpu',
    'libc',
  ]) {
    if (pkg[k] !== undefined) entry[k] = pkg[k];
  }
  if (optional) entry.optional = true;
  return entry;
}

/** This machine's platform package folder (npm/linux-x64-gnu …) when its addon is built. */
export function builtPlatformPackage(repo: string): string | undefined {
  const target = `${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}`;
  const dir = join(repo, 'npm', target);
  return existsSync(join(dir, 'doconv_native.node')) ? dir : undefined;
}

/**
 * Packs the repository at `repo` into `workDir` and installs it into `workDir/app` with
 * `@tensorflow/tfjs` and `extra` (names of packages in the repository's lockfile), and this
 * machine's platform package when built (`platform: false` leaves it out, as `--omit=optional`
 * would). With `withDoconv: false`, the same app without doconv (what an app pays for tfjs alone).
 */
export function installPackedApp(
  repo: string,
  workDir: string,
  extra: string[] = [],
  { withDoconv = true, platform = true } = {},
): PackedApp {
  mkdirSync(workDir, { recursive: true });
  const tarball = pack(repo, workDir);
  const platformDir = withDoconv && platform ? builtPlatformPackage(repo) : undefined;
  const platformTarball = platformDir && pack(platformDir, workDir);
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const repoLock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
  const dir = join(workDir, 'app');
  mkdirSync(dir, { recursive: true });

  const tfVersion = repoLock.packages['node_modules/@tensorflow/tfjs'].version as string;
  const appDeps: Record<string, string> = {
    ...(withDoconv ? { doconv: `file:../${basename(tarball)}` } : {}),
    '@tensorflow/tfjs': tfVersion,
  };
  for (const name of extra) appDeps[name] = repoLock.packages[`node_modules/${name}`].version;

  // doconv's own entry, as npm writes one for a tarball dependency.
  const doconvEntry = tarballEntry(tarball, false);
  const needs = {
    ...pkg.dependencies,
    ...pkg.optionalDependencies,
    ...Object.fromEntries(
      Object.keys(pkg.peerDependencies ?? {})
        .filter((p) => !pkg.peerDependenciesMeta?.[p]?.optional || extra.includes(p))
        .map((p) => [p, '*']),
    ),
    ...Object.fromEntries(extra.map((p) => [p, '*'])),
  };
  const third = lockClosure(
    repoLock,
    withDoconv
      ? needs
      : { '@tensorflow/tfjs': '*', ...Object.fromEntries(extra.map((p) => [p, '*'])) },
    new Set(withDoconv ? Object.keys(pkg.optionalDependencies ?? {}) : []),
  );
  // The platform packages are not published from here: the repository's lock names their registry
  // tarballs, which npm (offline) cannot fetch and skips, being optional. This machine's, when
  // built, comes from its tarball instead, where the registry's would be.
  if (platformTarball != null) {
    const entry = tarballEntry(platformTarball, true);
    third[
      `node_modules/${JSON.parse(readFileSync(join(platformDir!, 'package.json'), 'utf8')).name}`
    ] = entry;
  }
  const appPkg = {
    name: 'doconv-packed-app',
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies: appDeps,
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(appPkg, null, 2));
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify(
      {
        name: appPkg.name,
        version: appPkg.version,
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: appPkg.name, version: appPkg.version, dependencies: appDeps },
          ...(withDoconv ? { 'node_modules/doconv': JSON.parse(JSON.stringify(doconvEntry)) } : {}),
          ...third,
        },
      },
      null,
      2,
    ),
  );
  const log = execFileSync(npm, ['ci', '--offline', '--no-audit', '--no-fund'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  return { dir, tarball, platformTarball, log };
}
