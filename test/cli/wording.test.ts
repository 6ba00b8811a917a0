/**
 * The library names options by their library names; the CLI shows the same refusal with its flags,
 * through one table (src/cli/flagNames.ts). Checked on the translator itself, on the table (every
 * flag it names is a flag of some command), and end to end on messages users met in library
 * wording: `import` into an existing folder said "(or overwrite: true)" to a CLI user.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flagFor, inCliWording, namedOptions } from '../../src/cli/flagNames.js';
import { createProgram } from '../../src/cli/program.js';
import { importPytorchCheckpoint } from '../../src/train/importCheckpoint.js';
import { resolveConfig } from '../../src/train/config.js';
import { OptionError } from '../../src/util/optionError.js';
import { tempDir } from '../train/helpers.js';
import { runCli } from './runCli.js';

let root = '';
beforeAll(async () => {
  root = await tempDir('cli-wording');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('library names → flags', () => {
  it('flagFor: recipe keys, schedule fields, other options, switches, indexed names, unknown names', () => {
    expect(flagFor('lr')).toBe('--lr');
    expect(flagFor('lr', '0.1')).toBe('--lr 0.1');
    expect(flagFor('schedule.minLr')).toBe('--min-lr');
    expect(flagFor('dataDir')).toBe('--data-dir');
    expect(flagFor('dir')).toBe('--data-dir');
    expect(flagFor('trainLimit')).toBe('--train-limit');
    expect(flagFor('overwrite', 'true')).toBe('--overwrite');
    expect(flagFor('allowEngineChange', 'true')).toBe('--allow-engine-change');
    expect(flagFor('seeds[2]')).toBe('--seeds item 3');
    expect(flagFor('notAnOption')).toBe('notAnOption');
    expect(flagFor('notAnOption', 'true')).toBe('notAnOption: true');
  });

  it('every flag the table names is a flag of some command', () => {
    const flags = new Set(createProgram().commands.flatMap((c) => c.options.map((o) => o.long)));
    for (const option of namedOptions()) expect(flags, option).toContain(flagFor(option));
  });

  it('an OptionError reads in library names, and in flags once translated; other errors pass', () => {
    const e = new OptionError(
      ['out', 'overwrite'],
      (n) => `x exists; choose a new ${n('out')} (or ${n('overwrite', 'true')})`,
    );
    expect(e.message).toBe('x exists; choose a new out (or overwrite: true)');
    expect((inCliWording(e) as Error).message).toBe(
      'x exists; choose a new --out (or --overwrite)',
    );
    const plain = new Error('--as is');
    expect(inCliWording(plain)).toBe(plain);
  });

  it('a recipe refusal: schedule.minLr above lr', () => {
    const opts = { model: 'tf-mnist-sample', lr: 0.01, schedule: { kind: 'cosine', minLr: 0.1 } };
    let caught: unknown;
    try {
      resolveConfig(opts as never);
    } catch (e) {
      caught = e;
    }
    expect((caught as Error).message).toBe(
      'schedule.minLr 0.1 is above lr 0.01: a cosine schedule decays from lr down to schedule.minLr',
    );
    expect((inCliWording(caught) as Error).message).toBe(
      '--min-lr 0.1 is above --lr 0.01: a cosine schedule decays from --lr down to --min-lr',
    );
  });
});

describe('import into an existing folder', () => {
  it('the library says overwrite: true; the CLI says --overwrite', async () => {
    const out = path.join(root, 'taken');
    await fs.mkdir(out);
    const checkpoint = path.join(root, 'none.safetensors');
    await expect(importPytorchCheckpoint({ checkpoint, out })).rejects.toThrow(
      `${out} already exists; choose a new out folder (or overwrite: true)`,
    );
    const r = await runCli(['import', checkpoint, '--out', out, '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${out} already exists; choose a new --out folder (or --overwrite)`);
  });
});

describe('eval of a file that is not a TF.js model says what it is', () => {
  it('an ONNX export, a safetensors checkpoint, other bytes', async () => {
    const cases: Array<[string, Uint8Array, string]> = [
      ['model.onnx', Uint8Array.of(0x08, 0x07, 0x12, 0x04), 'is an ONNX file'],
      ['weights.safetensors', Uint8Array.of(0x40, 0, 0, 0), 'is a safetensors checkpoint'],
      ['notes.txt', new TextEncoder().encode('hello'), 'is not a model.json'],
    ];
    for (const [name, bytes, what] of cases) {
      const file = path.join(root, name);
      await fs.writeFile(file, bytes);
      const r = await runCli(['eval', file, '--backend', 'cpu']);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`model ${JSON.stringify(file)} ${what}`);
      expect(r.err).toContain('give a TF.js model.json, or a folder holding one');
      expect(r.err).not.toContain('Unexpected token');
    }
  });
});
