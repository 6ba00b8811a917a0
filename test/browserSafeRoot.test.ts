import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const SRC = resolve(import.meta.dirname, '..', 'src');

/** Every module reachable from `entry` by static imports/exports (relative ones followed). */
function reachable(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    const source = readFileSync(file, 'utf8');
    const specifiers = [
      ...source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm),
    ].map((m) => m[1] ?? m[2]);
    graph.set(file, specifiers);
    for (const s of specifiers)
      if (s.startsWith('.')) visit(join(dirname(file), s.replace(/\.js$/, '.ts')));
  };
  visit(entry);
  return graph;
}

describe('the package root is browser-safe', () => {
  it('no module reachable from src/index.ts imports a Node built-in', () => {
    const graph = reachable(join(SRC, 'index.ts'));
    expect(graph.size).toBeGreaterThan(10);
    const offenders = [...graph].flatMap(([file, specs]) =>
      specs.filter((s) => NODE_BUILTINS.has(s)).map((s) => `${file}: ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the check sees Node built-ins where they are (doconv/node)', () => {
    const graph = reachable(join(SRC, 'node.ts'));
    const nodeImports = [...graph.values()].flat().filter((s) => NODE_BUILTINS.has(s));
    expect(nodeImports.length).toBeGreaterThan(0);
  });
});
