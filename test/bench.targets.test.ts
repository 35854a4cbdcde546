import { describe, expect, it } from 'vitest';
import { targets, type TargetFigures } from '../dist/bench/targets.js';

const figures = (wallMs: number, loopMaxMs = 5, ackP99Ms = 2): TargetFigures => ({ wallMs, loopMaxMs, ackP99Ms });

describe('the benchmark targets', () => {
  it('judges every target from the figures, in a fixed order', () => {
    const modes = {
      idle: figures(0, 3, 1.5),
      sync: figures(9000, 9000, 8000),
      pool: figures(1800, 8, 2.2),
      'pool-adversarial': figures(1950, 12),
      'pool-large': figures(1900, 35),
      'pool-hot': figures(0.5, 4),
    };
    const out = targets(modes, { cachedVsMap: 1.2 }, 1500);
    expect(out.map((t) => [t.target, t.met])).toEqual([
      ['pool wall <= 1.25 x critical path (ms)', true],
      ['|pool-adversarial wall / pool wall - 1| <= 0.1', true],
      ['pool ack p99 / idle ack p99 <= 1.5', true],
      ['pool loop-delay max <= 12 ms', true],
      ['pool-adversarial loop-delay max <= 12 ms', true],
      ['pool-large loop-delay max <= 12 ms', false],
      ['pool-hot loop-delay max <= 12 ms', true],
      ['pool-hot wall / sync wall <= 0.02', true],
      ['pool-hot cached check / awaited Map lookup <= 2', true],
    ]);
    expect(out[0]).toEqual({ target: 'pool wall <= 1.25 x critical path (ms)', value: 1800, limit: 1875, met: true });
    expect(out[1]?.value).toBeCloseTo(0.0833, 3);
    expect(out[5]).toMatchObject({ value: 35, limit: 12 });
    // A tiny ratio keeps its significant digits rather than rounding to 0.
    expect(out[7]?.value).toBeCloseTo(0.5 / 9000, 8);
  });

  it('misses each target its figures break, the adversarial order either way', () => {
    const slower = targets({ pool: figures(2000, 25, 5), idle: figures(0, 3, 2), 'pool-adversarial': figures(2300) }, { cachedVsMap: 2.5 }, 1500);
    expect(slower.filter((t) => !t.met).map((t) => t.target)).toEqual([
      'pool wall <= 1.25 x critical path (ms)',
      '|pool-adversarial wall / pool wall - 1| <= 0.1',
      'pool ack p99 / idle ack p99 <= 1.5',
      'pool loop-delay max <= 12 ms',
      'pool-hot cached check / awaited Map lookup <= 2',
    ]);
    // Faster by more than 10 % is off target too: the order must not matter.
    const faster = targets({ pool: figures(2000), 'pool-adversarial': figures(1700) }, null, null);
    expect(faster).toEqual([
      { target: '|pool-adversarial wall / pool wall - 1| <= 0.1', value: 0.15, limit: 0.1, met: false },
      expect.objectContaining({ target: 'pool loop-delay max <= 12 ms' }),
      expect.objectContaining({ target: 'pool-adversarial loop-delay max <= 12 ms' }),
    ]);
  });

  it('holds the loop limit inclusively, and covers the CPU-bound pool modes too, but not the unniced twins of the defaults', () => {
    const out = targets({ pool: figures(100, 12.01), 'pool-cpu': figures(100, 12), 'pool-cpu-nice0': figures(100, 30), sync: figures(100, 500) }, null, null);
    expect(out.map((t) => [t.target, t.met])).toEqual([
      ['pool loop-delay max <= 12 ms', false],
      ['pool-cpu loop-delay max <= 12 ms', true],
    ]);
  });

  it('leaves out the targets whose figures were not measured, and misses one whose figure is NaN', () => {
    expect(targets({}, null, null)).toEqual([]);
    expect(targets({ sync: figures(9000), idle: figures(0) }, null, 1500)).toEqual([]);
    const [critical] = targets({ pool: figures(Number.NaN) }, null, 1500);
    expect(critical).toMatchObject({ met: false });
  });
});
