import { describe, expect, it } from 'vitest';
import { doConvReference, referenceDiag, type DOConvProblem } from './featureComposition.js';
import { randomNormal } from './tolerance.js';

function problem(): DOConvProblem {
  const xShape: [number, number, number, number] = [1, 5, 4, 4];
  const [dMul, groups, filters] = [10, 2, 4];
  return {
    x: randomNormal(80, 1),
    xShape,
    weight: randomNormal(dMul * 2 * filters, 2),
    d: randomNormal(9 * dMul * 4, 3),
    bias: randomNormal(filters, 4),
    kernelSize: [3, 3],
    dMul,
    filters,
    groups,
    strides: [2, 1],
    dilation: [1, 1],
    padding: 'same',
  };
}

describe('feature-composition reference', () => {
  it('D_diag tiles the identity and zero-pads the remainder', () => {
    const diag = referenceDiag(2, 5, 1); // [m][s]: identity, identity, zero column
    expect(Array.from(diag)).toEqual([1, 0, 1, 0, 0, 0, 1, 0, 1, 0]);
  });

  it('its gradients match finite differences of its own forward (adjoints are right)', () => {
    const p = problem();
    const ref = doConvReference(p, randomNormal(1 * 3 * 4 * 4, 9));
    const g = randomNormal(ref.y.length, 9);
    const loss = (q: DOConvProblem) => doConvReference(q).y.reduce((s, v, i) => s + v * g[i], 0);
    const grads = doConvReference(p, g).grads!;
    const h = 1e-6;
    for (const [name, arr, grad] of [
      ['x', p.x, grads.x],
      ['weight', p.weight, grads.weight],
      ['d', p.d!, grads.d!],
      ['bias', p.bias!, grads.bias!],
    ] as const) {
      for (const i of [0, Math.min(7, arr.length - 2), arr.length - 1]) {
        const saved = arr[i];
        arr[i] = saved + h;
        const up = loss(p);
        arr[i] = saved - h;
        const down = loss(p);
        arr[i] = saved;
        expect((up - down) / (2 * h), `${name}[${i}]`).toBeCloseTo(grad[i], 5);
      }
    }
  });

  it('a 1×1 kernel is a per-pixel matmul', () => {
    const x = Float64Array.from([1, 2, 3, 4]); // [1,1,2,2]
    const weight = Float64Array.from([1, 0, 2, 1, 1, 3]); // [1, 2, 3]
    const ref = doConvReference({
      x,
      xShape: [1, 1, 2, 2],
      weight,
      d: null,
      bias: Float64Array.from([0, 0, 1]),
      kernelSize: [1, 1],
      dMul: 1,
      filters: 3,
      groups: 1,
      strides: [1, 1],
      dilation: [1, 1],
      padding: 'valid',
    });
    expect(Array.from(ref.y)).toEqual([3, 2, 9, 7, 4, 19]);
  });
});
