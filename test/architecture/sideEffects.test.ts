/**
 * package.json's `sideEffects` lists exactly the modules that do something when imported (register
 * layer classes, optimizers, kernels, the file:// router; worker and CLI entries), so bundlers may
 * drop every other unused module and never drop these. A module "does something" when it has a
 * top-level statement other than imports, exports and declarations (parsed with TypeScript).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const DECLARATION = new Set([
  ts.SyntaxKind.ImportDeclaration,
  ts.SyntaxKind.ImportEqualsDeclaration,
  ts.SyntaxKind.ExportDeclaration,
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.ClassDeclaration,
  ts.SyntaxKind.InterfaceDeclaration,
  ts.SyntaxKind.TypeAliasDeclaration,
  ts.SyntaxKind.EnumDeclaration,
  ts.SyntaxKind.ModuleDeclaration,
  // `const x = …` binds; a call in an initializer is taken as computing a value, not an effect.
  ts.SyntaxKind.VariableStatement,
]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.c?ts$/.test(e.name) && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')
      ? [path]
      : [];
  });
}

/** The first line of each top-level statement that is not an import, export or declaration. */
function effectLines(code: string): string[] {
  const file = ts.createSourceFile('m.ts', code, ts.ScriptTarget.ES2022);
  return file.statements
    .filter((s) => !DECLARATION.has(s.kind))
    .map((s) => s.getText(file).split('\n')[0]);
}

const toDist = (src: string) =>
  './' +
  relative(root, src)
    .replace(/^src\//, 'dist/')
    .replace(/\.ts$/, '.js')
    .replace(/\.cts$/, '.cjs');

describe('sideEffects', () => {
  it('effectLines sees calls and statements, not declarations', () => {
    const code = 'import x from "y";\nconst a = f(`\nX:\n`);\nf();\nif (a) {\n  g();\n}\n';
    expect(effectLines(code)).toEqual(['f();', 'if (a) {']);
  });

  it('package.json lists exactly the modules with top-level effects, and the entry points', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    // A bare `import 'doconv'` keeps the entry's own imports (kernel registration) only when the
    // entry is listed too: esbuild drops an unlisted module whole, imports and all.
    const entries = Object.values(pkg.exports as Record<string, { import?: string }>)
      .map((e) => e.import)
      .filter((e): e is string => e !== undefined);
    expect(entries).toEqual(['./dist/index.js', './dist/node.js']);
    const withEffects = sources(join(root, 'src'))
      .filter((f) => effectLines(readFileSync(f, 'utf8')).length > 0)
      .map(toDist);
    expect([...pkg.sideEffects].sort()).toEqual([...new Set([...withEffects, ...entries])].sort());
  });
});
