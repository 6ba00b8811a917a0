/** Runs the doconv program in-process with captured output and commander's exits turned into results. */
import { CommanderError } from 'commander';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'vitest';
import { createProgram } from '../../src/cli/program.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function runCli(args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const program = createProgram({ out: (s) => out.push(s), err: (s) => err.push(s) });
  for (const cmd of [program, ...program.commands]) {
    cmd
      .exitOverride()
      .configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  }
  let code = 0;
  try {
    await program.parseAsync(['node', 'doconv', ...args]);
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode;
    else {
      code = 1;
      err.push(`doconv: error: ${(e as Error).message}`);
    }
  }
  return { code, out: out.join(''), err: err.join('') };
}

export const REPO = path.resolve(import.meta.dirname, '../..');

/** Spawns the real executable from source (`node --import tsx src/cli/main.ts …`), as `npm run doconv` does. */
export function spawnCli(args: string[], timeoutMs = 90_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), ...args],
      {
        cwd: REPO,
        env: { ...process.env, FORCE_COLOR: '0' },
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, err });
    });
  });
}

/** Expects a finished `doconv …` to have exited 1 with `message` on stderr (a substring, or a pattern). */
export async function expectExitOne(
  run: Promise<CliResult>,
  message: string | RegExp,
): Promise<void> {
  const r = await run;
  expect(r.code, r.err).toBe(1);
  if (typeof message === 'string') expect(r.err).toContain(message);
  else expect(r.err).toMatch(message);
}
