/**
 * docs/cli.md's table of flags lists every visible option of every command, with the commands that
 * take it (so a new flag or a renamed one cannot be missing from it), and no flag no command has.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';
import { REPO } from './runCli.js';

const doc = fs.readFileSync(path.join(REPO, 'docs/cli.md'), 'utf8');

/** The table's rows: each flag (as commander spells it) → the commands named for it. */
function documentedFlags(): Map<string, Set<string>> {
  const table = doc.slice(doc.search(/^\| Flag\s+\| Commands\s+\| Meaning\s+\|/m));
  const rows = new Map<string, Set<string>>();
  for (const line of table.split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [, flags, commands] = line.split('|').map((cell) => cell.trim());
    const names = commands
      .replace(/\([^)]*\)/g, '')
      .split(',')
      .map((c) => c.trim());
    for (const [, flag] of flags.matchAll(/`([^`]+)`/g)) rows.set(flag, new Set(names));
  }
  return rows;
}

describe('docs/cli.md', () => {
  const documented = documentedFlags();
  const program = createProgram();

  for (const cmd of program.commands) {
    it(`lists every flag of ${cmd.name()}`, () => {
      for (const option of cmd.options) {
        if (option.hidden) continue;
        expect(documented.get(option.flags), option.flags).toBeDefined();
        expect([...documented.get(option.flags)!], option.flags).toContain(cmd.name());
      }
    });
  }

  it('lists no flag that no command has', () => {
    for (const [flag, commands] of documented) {
      for (const name of commands) {
        const cmd = program.commands.find((c) => c.name() === name);
        expect(cmd, `${flag}: ${name}`).toBeDefined();
        expect(
          cmd!.options.map((o) => o.flags),
          `${flag} in ${name}`,
        ).toContain(flag);
      }
    }
  });

  it('names the old spellings', () => {
    expect(doc).toMatch(/^\| `eval --limit <n>`\s+\| `eval --test-limit <n>`/m);
    expect(doc).toMatch(/^\| `eval --batch-size <n>`\s+\| `eval --eval-batch-size <n>`/m);
  });
});
