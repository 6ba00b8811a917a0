/**
 * src/cli is the only place with flag names (CONTRIBUTING.md, "a thin CLI"): the library names its
 * options as its callers spell them ("lr", "overwrite: true") and the CLI renders a refusal with its
 * flags (src/cli/flagNames.ts). This reads every string and template literal of src/ outside src/cli
 * (comments are not read) and fails on one holding a `--flag`-style name.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** A flag-like word: "--lr", "--data-dir" (not "---" rules or a lone "--"). */
const FLAG = /(?<![-\w])--[a-z][a-z0-9-]*/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? tsFiles(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/** The text of every string literal and template piece in `source`. */
export function literalTexts(file: string, source: string): string[] {
  const texts: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) texts.push(node.text);
    else if (ts.isTemplateExpression(node)) {
      texts.push(node.head.text, ...node.templateSpans.map((s) => s.literal.text));
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false));
  return texts;
}

/** The flag-like words in the literals of `source`, as "file: --flag in "…"". */
export function flagWords(file: string, source: string): string[] {
  return literalTexts(file, source).flatMap((text) =>
    [...text.matchAll(FLAG)]
      .map((m) => m[0])
      .map((flag) => `${file}: ${flag} in ${JSON.stringify(text.slice(0, 80))}`),
  );
}

describe('flag names live in src/cli only', () => {
  it('finds a flag in a message, not in a comment (the check itself)', () => {
    const source = [
      '// --in-a-comment is fine',
      '/** so is --this */',
      'throw new Error(`resume it (--resume) or ${x}`);',
      "const a = 'use --data-dir';",
      "const b = 'x -- y', c = 'a---b';",
    ].join('\n');
    expect(flagWords('f.ts', source).map((w) => w.split(' in ')[0])).toEqual([
      'f.ts: --resume',
      'f.ts: --data-dir',
    ]);
  });

  it('no string of the library names a --flag', () => {
    const found = tsFiles(SRC)
      .filter((file) => !relative(SRC, file).startsWith(`cli/`))
      .flatMap((file) => flagWords(relative(SRC, file), readFileSync(file, 'utf8')));
    expect(found).toEqual([]);
  });
});
