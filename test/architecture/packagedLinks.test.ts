/**
 * The README and docs/ ship in the npm package, so their relative links must lead to files the
 * package holds (package.json `files`, plus what npm always packs) and to headings that exist;
 * anything else (results/, CONTRIBUTING.md, tools/, npm/) is linked absolutely, on GitHub. The pack
 * lane checks the same in the real tarball; this is the quick check in `npm test`.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headingSlugs, relativeLinks } from '../helpers/markdownLinks.js';

const root = resolve(import.meta.dirname, '../..');
const files: string[] = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).files;
const ALWAYS_PACKED = ['README.md', 'LICENSE', 'package.json'];
const packed = (file: string) =>
  ALWAYS_PACKED.includes(file) || files.some((f) => file === f || file.startsWith(`${f}/`));

describe("the packaged pages' links", () => {
  it('headingSlugs makes GitHub anchors', () => {
    expect([
      ...headingSlugs('# The native engine (oneDNN, optional)\n## Use in Node\n## Use in Node\n'),
    ]).toEqual(['the-native-engine-onednn-optional', 'use-in-node', 'use-in-node-1']);
  });

  it('lead to packaged files and existing headings', () => {
    const pages = ['README.md', ...readdirSync(join(root, 'docs')).map((f) => `docs/${f}`)].filter(
      (f) => f.endsWith('.md'),
    );
    expect(pages.every(packed)).toBe(true);
    const broken: string[] = [];
    for (const page of pages) {
      for (const { target, file, anchor } of relativeLinks(
        page,
        readFileSync(join(root, page), 'utf8'),
      )) {
        if (!packed(file) || !existsSync(join(root, file))) {
          broken.push(
            `${page}: ${target} (not in the npm package: link it as https://github.com/doconv/doconv/blob/main/${file})`,
          );
        } else if (anchor && file.endsWith('.md')) {
          if (!headingSlugs(readFileSync(join(root, file), 'utf8')).has(anchor))
            broken.push(`${page}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
