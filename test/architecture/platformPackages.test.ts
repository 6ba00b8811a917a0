/**
 * The prebuilt engine's platform packages (npm/<target>/package.json) agree with doconv's
 * package.json, its lockfile and the loader (src/engine/native/nativeAddon.ts): the name the loader
 * asks for on that os/cpu, doconv's version, listed in optionalDependencies, no install script.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { platformPackageName } from '../../src/engine/native/nativeAddon.js';

const root = resolve(import.meta.dirname, '../..');
const read = (p: string) => JSON.parse(readFileSync(join(root, p), 'utf8'));
const main = read('package.json');
const lock = read('package-lock.json');
const targets = readdirSync(join(root, 'npm'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('the platform packages', () => {
  it('exist for linux-x64-gnu, darwin-arm64, darwin-x64 and win32-x64, each optional in doconv', () => {
    expect(targets).toEqual(['darwin-arm64', 'darwin-x64', 'linux-x64-gnu', 'win32-x64']);
    expect(Object.keys(main.optionalDependencies).sort()).toEqual(
      targets.map((t) => `@doconv/${t}`),
    );
  });

  for (const target of targets) {
    it(`${target}: the loader's name for its os/cpu, doconv's version, no scripts, in the lockfile`, () => {
      const pkg = read(`npm/${target}/package.json`);
      expect(pkg.os).toHaveLength(1);
      expect(pkg.cpu).toHaveLength(1);
      expect(pkg.name).toBe(`@doconv/${target}`);
      expect(platformPackageName(pkg.os[0], pkg.cpu[0])).toBe(pkg.name);
      expect(pkg.libc).toEqual(pkg.os[0] === 'linux' ? ['glibc'] : undefined);
      expect(pkg.version).toBe(main.version);
      expect(main.optionalDependencies[pkg.name]).toBe(main.version);
      expect(pkg.scripts).toBeUndefined();
      expect(pkg.files).toContain('doconv_native.node');
      expect(pkg.files).toContain('licenses');
      const entry = lock.packages[`node_modules/${pkg.name}`];
      expect(entry).toMatchObject({
        version: main.version,
        optional: true,
        os: pkg.os,
        cpu: pkg.cpu,
      });
      expect(lock.packages[''].optionalDependencies[pkg.name]).toBe(main.version);
    });
  }

  it('doconv itself has no install-time script (npm lists those for approval)', () => {
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare'])
      expect(main.scripts[s], s).toBeUndefined();
    expect(main.scripts.prepack).toBe('npm run build');
  });
});
