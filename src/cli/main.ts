#!/usr/bin/env node
/** The `doconv` executable (package bin): runs the program and turns thrown errors into one line + exit 1. */
import { createProgram } from './program.js';
import { silenceNodeBanner } from './quietTfjs.js';

try {
  silenceNodeBanner();
  await createProgram().parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`doconv: error: ${(e as Error).message}\n`);
  if (process.env.DOCONV_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
}
