/**
 * The code blocks of README.md and docs/*.md that are meant to run: fenced ```ts node (run in Node,
 * in order, in one folder, so a later block can read what an earlier one wrote) and ```ts browser
 * (type-checked; they use browser-only handlers such as downloads://). Used by readmeSnippets.test.ts
 * against the source and by test/pack against the packed tarball, unchanged.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Snippet {
  /** 'README.md:42' — the file and the line the block starts on. */
  where: string;
  kind: 'node' | 'browser';
  code: string;
}

const FENCE = /^```ts (node|browser)\n([\s\S]*?)^```$/gm;

/** Every tagged block of one markdown text, in order. */
export function snippetsOf(markdown: string, file: string): Snippet[] {
  const found: Snippet[] = [];
  for (const m of markdown.matchAll(FENCE)) {
    const line = markdown.slice(0, m.index).split('\n').length;
    found.push({ where: `${file}:${line}`, kind: m[1] as Snippet['kind'], code: m[2] });
  }
  return found;
}

/** README.md first, then docs/*.md alphabetically. */
export function repoSnippets(root: string): Snippet[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs].flatMap((file) =>
    snippetsOf(readFileSync(join(root, file), 'utf8'), file),
  );
}
