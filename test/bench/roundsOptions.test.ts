import { describe, expect, it } from 'vitest';
import { parseRoundsOptions } from '../../bench/rounds.js';

describe('bench rounds options', () => {
  it('times every zoo net at its natural input by default', () => {
    const o = parseRoundsOptions(['--rounds', '2']);
    const input = Object.fromEntries(o.nets.map((n) => [n.name, n.inputShape.join('×')]));
    expect(input['tf-mnist-sample']).toBe('28×28×1');
    expect(input['resnet-56']).toBe('32×32×3');
    expect(input['mobilenet-v2']).toBe('32×32×3');
    expect(input['deeplab-mini']).toBe('64×64×1');
    expect(input['centernet-mini']).toBe('64×64×1');
    expect(o.nets.length).toBeGreaterThanOrEqual(12);
    expect(o.rounds).toBe(2);
    expect(o.out).toBe('results');
  });

  it('--quick is tiny and writes outside results/', () => {
    const o = parseRoundsOptions(['--quick', '--nets', 'resnet-20', '--load']);
    expect(o.nets.map((n) => n.name)).toEqual(['resnet-20']);
    expect(o.batch['resnet-20']).toBe(2);
    expect([o.rounds, o.windows, o.steps, o.loadProcs]).toEqual([1, 1, 1, 1]);
    expect(o.out).toBeNull(); // a new temporary folder
  });

  it('names the flag and the value it refuses', () => {
    expect(() => parseRoundsOptions(['--nets', 'resnet-21'])).toThrow('"resnet-21"');
    expect(() => parseRoundsOptions(['--batch', 'resnet-20=0'])).toThrow(
      '--batch resnet-20 must be a positive integer, got "0"',
    );
    expect(() => parseRoundsOptions(['--variants', 'conv,dconv'])).toThrow('"dconv"');
    expect(() => parseRoundsOptions(['--engine', 'native'])).toThrow(
      '--engine must be auto or wasm',
    );
    expect(() => parseRoundsOptions(['--rounds', '0'])).toThrow(
      '--rounds must be a positive integer',
    );
    expect(() => parseRoundsOptions(['--adapt-threads', 'auto'])).toThrow(
      '--adapt-threads must be load or steps, got "auto"',
    );
  });
});
