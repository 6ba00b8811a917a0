#!/usr/bin/env node
/**
 * npm run build:platform — builds this machine's prebuilt platform package (npm/<target>/, e.g.
 * npm/linux-x64-gnu) the way sharp ships libvips: the addon plus the runtimes it loads, found
 * beside it through an `$ORIGIN` run path, so `npm install doconv` needs no compiler, no oneDNN and
 * no install script. doconv lists the package in optionalDependencies; npm installs only the one
 * whose os/cpu/libc match (src/engine/native/nativeAddon.ts loads it).
 *
 * Linux: builds the addon for the baseline ISA (DOCONV_NATIVE_PORTABLE=1: -march=native would
 * break other CPUs; oneDNN picks its own ISA at run time) with run path $ORIGIN, copies libdnnl.so.2
 * and the libraries it needs that a Node install may lack (libgomp.so.1, libOpenCL.so.1) as ldd
 * finds them, sets their run path to $ORIGIN too (patchelf), adds their licenses, checks that
 * everything resolves inside the package, and prints the glibc / libstdc++ floor (the highest
 * GLIBC_ / GLIBCXX_ symbol version any file needs). `--pack DIR` also runs `npm pack` into DIR.
 * Other targets: the recipe in npm/<target>/README.md.
 *
 *   node native/package.mjs [--pack DIR] [--if-supported]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const flag = (name) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};

function fail(message) {
  console.error(`build:platform: ${message}`);
  process.exit(1);
}

const target = `${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}`;
const dir = path.join(root, 'npm', target);
if (!existsSync(path.join(dir, 'package.json')))
  fail(`no package layout for this machine's target '${target}' (npm/${target}/package.json)`);
if (process.platform !== 'linux') {
  const why = `'${target}' is built by the recipe in npm/${target}/README.md, not by this script`;
  // test:pack passes --if-supported: elsewhere it runs without the platform package.
  if (!process.argv.includes('--if-supported')) fail(why);
  console.log(`build:platform: skipped (${why})`);
  process.exit(0);
}

const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
const main = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
if (pkg.version !== main.version)
  fail(
    `npm/${target}/package.json has version ${pkg.version}, doconv ${main.version}: make them equal`,
  );
if (main.optionalDependencies?.[pkg.name] !== main.version)
  fail(`doconv's optionalDependencies must list "${pkg.name}": "${main.version}"`);
if (spawnSync('patchelf', ['--version'], { stdio: 'ignore' }).status !== 0)
  fail('patchelf not found (Debian/Ubuntu: apt-get install patchelf)');

// Only the committed layout stays (package.json, README.md); everything else is rebuilt.
for (const f of readdirSync(dir))
  if (!['package.json', 'README.md'].includes(f)) rmSync(path.join(dir, f), { recursive: true });

const addon = path.join(dir, 'doconv_native.node');
const built = spawnSync(
  process.execPath,
  [path.join(here, 'build.mjs'), '--strict', '--out', addon, '--rpath', '$ORIGIN'],
  { stdio: 'inherit', env: { ...process.env, DOCONV_NATIVE_PORTABLE: '1' } },
);
if (built.status !== 0) fail('the addon did not build (see above)');

/** soname → path, as the dynamic loader resolves `file`'s libraries now. */
function ldd(file) {
  const out = execFileSync('ldd', [file], { encoding: 'utf8' });
  return new Map([...out.matchAll(/^\s*(\S+) => (\S+)/gm)].map((m) => [m[1], m[2]]));
}

// The runtimes to bundle: oneDNN, and what it needs beyond glibc and libstdc++ (which Node's own
// binary needs as well). Each with the Debian copyright file of the package that ships it.
const BUNDLED = {
  'libdnnl.so.2': ['libdnnl2', '/usr/share/common-licenses/Apache-2.0'],
  'libgomp.so.1': ['libgomp1'],
  'libOpenCL.so.1': ['ocl-icd-libopencl1'],
};
const found = ldd(addon); // transitive: libdnnl.so.2's own libraries too
const licenses = path.join(dir, 'licenses');
mkdirSync(licenses);
copyFileSync(path.join(root, 'LICENSE'), path.join(licenses, 'doconv-LICENSE'));
for (const [soname, [debPackage, ...extra]] of Object.entries(BUNDLED)) {
  const from = found.get(soname);
  if (from == null) fail(`${soname} not found by ldd`);
  const to = path.join(dir, soname);
  copyFileSync(from, to); // follows the symlink: the file itself, under its soname
  if (soname !== 'libgomp.so.1') execFileSync('patchelf', ['--set-rpath', '$ORIGIN', to]);
  const copyright = `/usr/share/doc/${debPackage}/copyright`;
  if (!existsSync(copyright)) fail(`${copyright} not found (the license of ${soname})`);
  copyFileSync(copyright, path.join(licenses, `${soname}.copyright`));
  for (const f of extra) copyFileSync(f, path.join(licenses, path.basename(f)));
}

// Every library the package holds must resolve to the package's own copy.
const files = ['doconv_native.node', ...Object.keys(BUNDLED)].map((f) => path.join(dir, f));
for (const file of files) {
  for (const [soname, resolved] of ldd(file)) {
    if (soname in BUNDLED && path.dirname(path.resolve(resolved)) !== dir)
      fail(`${path.basename(file)} loads ${soname} from ${resolved}, not from the package`);
  }
}

/** The highest `prefix`_x.y.z symbol version the files need (objdump -T: undefined symbols). */
function floor(prefix) {
  let best = [0];
  for (const file of files) {
    const out = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    for (const m of out.matchAll(
      new RegExp(`\\*UND\\*\\s+\\S+\\s+(?:\\(${prefix}_([\\d.]+)\\)|${prefix}_([\\d.]+))`, 'g'),
    )) {
      const v = (m[1] ?? m[2]).split('.').map(Number);
      const longer = Math.max(v.length, best.length);
      for (let i = 0; i < longer; i++) {
        if ((v[i] ?? 0) !== (best[i] ?? 0)) {
          if ((v[i] ?? 0) > (best[i] ?? 0)) best = v;
          break;
        }
      }
    }
  }
  return best.join('.');
}
console.log(
  `build:platform: npm/${target} ready — needs glibc ≥ ${floor('GLIBC')}, libstdc++ with GLIBCXX_${floor('GLIBCXX')}`,
);

const packTo = flag('--pack');
if (packTo !== undefined) {
  mkdirSync(packTo, { recursive: true });
  const out = execFileSync(
    'npm',
    ['pack', '--silent', '--pack-destination', path.resolve(packTo)],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  console.log(`build:platform: packed ${path.join(packTo, out.trim().split('\n').pop())}`);
}
