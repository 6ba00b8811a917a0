/**
 * Relative links of Markdown pages and GitHub's heading anchors: what test/pack checks in the
 * tarball and test/architecture checks against package.json's `files`.
 */
import { posix } from 'node:path';

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  for (const [, heading] of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let slug = base;
    for (let n = 1; slugs.has(slug); n++) slug = `${base}-${n}`;
    slugs.add(slug);
  }
  return slugs;
}

export interface RelativeLink {
  /** As written, e.g. '../README.md#use-in-node'. */
  target: string;
  /** The linked file relative to the package root ('' never: a bare '#anchor' is the page itself). */
  file: string;
  anchor: string | undefined;
}

/** Every relative (not scheme:) link of `page` (a path relative to the package root). */
export function relativeLinks(page: string, markdown: string): RelativeLink[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z]+:/i.test(target))
    .map((target) => {
      const [path, anchor] = target.split('#');
      const file = path === '' ? page : posix.normalize(posix.join(posix.dirname(page), path));
      return { target, file, anchor };
    });
}
