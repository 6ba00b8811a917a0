/**
 * `doconv build-native`: compiles the native training engine (oneDNN) for this machine — the way
 * an npm user of doconv turns it on (`npm run build:native` exists only in a checkout).
 */
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIO } from '../print.js';

// src/cli/commands/ and dist/cli/commands/ are both three levels below the package root.
const buildScript = fileURLToPath(new URL('../../../native/build.mjs', import.meta.url));
const builtAddon = fileURLToPath(
  new URL('../../../native/build/doconv_native.node', import.meta.url),
);

export function buildNativeCommand(io: CliIO): Command {
  return new Command('build-native')
    .summary("compile the native training engine (oneDNN) for this machine's CPU")
    .description(
      "Compile doconv's native training engine (native/src/*.cc against oneDNN 2.x) with the system C++ compiler.\n" +
        'Needs oneDNN and g++ (Debian/Ubuntu: sudo apt-get install libdnnl-dev g++; macOS: brew install onednn).\n' +
        'The engine is then used by train, compare and bench (and useBestBackend) on the wasm backend.',
    )
    .option('--portable', "build for the baseline x86-64 ISA rather than this machine's CPU")
    .addHelpText(
      'after',
      `
Examples:
  $ npx doconv build-native
  $ DOCONV_NATIVE_PORTABLE=1 npx doconv build-native   # same as --portable`,
    )
    .action((flags: { portable?: boolean }) => {
      // Inherited output: the script says what it builds before the compiler's ~30 s, then the result.
      const r = spawnSync(process.execPath, [buildScript, '--strict'], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, ...(flags.portable ? { DOCONV_NATIVE_PORTABLE: '1' } : {}) },
      });
      if (r.error != null) {
        throw new Error(`build-native: cannot run ${buildScript}: ${r.error.message}`);
      }
      if (r.status !== 0)
        throw new Error('build-native: the native engine was not built (see above)');
      io.out(`native engine ready: ${path.relative(process.cwd(), builtAddon)}`);
    });
}
