/**
 * Where a command may write: never over one of its inputs, never into `/` or the home folder.
 * Node-only.
 *
 * Why: `doconv fold ck ck` replaced the checkpoint it was folding (the next --resume failed), `export
 * run/checkpoint run/checkpoint/model.json --format onnx` turned the model.json into ONNX bytes,
 * `import x.safetensors --out x.safetensors --overwrite` replaced the input with a folder, and
 * `--out /` trained into the file-system root. Every writer (fold, export, import, train's --out)
 * calls `checkOutputPath` before it reads anything.
 *
 * The rule: paths are compared once symlinks are resolved (a missing output is resolved through
 * its nearest existing parent). The output is refused when it is an input, lies inside an input
 * folder, or holds an input (a folder output is written into, and import replaces it whole), or
 * when it is the same file as an input under another name (a hard link: same device and inode).
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

/** One path a command reads, named for messages ('input', 'checkpoint', '--data-dir', ...). */
export interface NamedPath {
  what: string;
  path: string;
}

/** The output would overwrite an input or land in `/` or the home folder. */
export class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

/**
 * Refuses `output` (named `what`) when it is `/` or the home folder, or when it is, is inside,
 * holds, or is a hard link of one of `inputs` — naming both paths.
 */
export async function checkOutputPath(
  what: string,
  output: string,
  inputs: readonly NamedPath[] = [],
): Promise<void> {
  const out = await resolveAsFarAsExists(output);
  const shown = (p: NamedPath | { what: string; path: string }) =>
    `${p.what} ${JSON.stringify(p.path)}`;
  const outShown = shown({ what, path: output });
  if (out === path.parse(out).root) {
    throw new OutputPathError(`${outShown} is the file-system root; choose a folder of its own`);
  }
  if (out === (await resolveAsFarAsExists(os.homedir()))) {
    throw new OutputPathError(`${outShown} is your home folder; choose a folder of its own`);
  }
  const outStat = await fs.stat(out).catch(() => null);
  for (const input of inputs) {
    const inp = await resolveAsFarAsExists(input.path);
    const why =
      inp === out
        ? 'is the same path as'
        : isInside(inp, out)
          ? 'is inside'
          : isInside(out, inp)
            ? 'holds'
            : null;
    if (why !== null) {
      throw new OutputPathError(
        `${outShown} ${why} ${shown(input)}: writing it would change the input; choose another ${what}`,
      );
    }
    const inStat = await fs.stat(inp).catch(() => null);
    if (outStat && inStat && outStat.dev === inStat.dev && outStat.ino === inStat.ino) {
      throw new OutputPathError(
        `${outShown} is the same file as ${shown(input)} (a hard link): writing it would change the input; choose another ${what}`,
      );
    }
  }
}

/** `p` with symlinks resolved as far as it exists, the missing rest appended. */
async function resolveAsFarAsExists(p: string): Promise<string> {
  const absolute = path.resolve(p);
  let existing = absolute;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(await fs.realpath(existing), ...rest.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return absolute;
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
