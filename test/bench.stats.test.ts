import { createHistogram } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { acksIn, medianFigures, windowFigures } from '../dist/bench/figures.js';
import type { WindowRecord } from '../dist/bench/measure.js';
import { histogramMs, median, nsPerOp, percentile, ratio, round, significant, summarize } from '../dist/bench/stats.js';

describe('benchmark statistics', () => {
  it('takes percentiles by nearest rank, whatever the input order', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(values, 100)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarises count, p50, p99 and max; an empty set gives NaN figures', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarize(hundred)).toEqual({ count: 100, p50: 50, p99: 99, max: 100 });
    expect(summarize([])).toMatchObject({ count: 0, p50: NaN });
  });

  it('takes medians of odd and even counts, ignoring NaN', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('reads a perf_hooks histogram (nanoseconds) in milliseconds, and an empty one as zeros', () => {
    const h = createHistogram();
    expect(histogramMs(h)).toEqual({ count: 0, p50: 0, p99: 0, max: 0 });
    for (let i = 1; i <= 100; i++) h.record(i * 1_000_000);
    const s = histogramMs(h);
    expect(s.count).toBe(100);
    expect(s.max).toBeCloseTo(100, 0);
    expect(s.p50).toBeCloseTo(50, 0);
    expect(s.p99).toBeCloseTo(99, 0);
  });

  it('gives NaN for a ratio against nothing, and rounds only finite numbers', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNaN();
    expect(ratio(NaN, 2)).toBeNaN();
    expect(round(1.23456, 2)).toBe(1.23);
    expect(round(Infinity)).toBe(Infinity);
    expect(significant(0.000404321)).toBe(0.000404);
    expect(significant(6956.3)).toBe(6960);
    expect(significant(NaN)).toBeNaN();
  });

  it('times an awaited operation per call, in nanoseconds', async () => {
    let calls = 0;
    const ns = await nsPerOp(() => calls++, 100, 2, 10);
    expect(calls).toBe(210);
    expect(ns).toBeGreaterThan(0);
  });

  it('attributes acks to the window they were sent in, counting failures and those over 3 s', () => {
    const window: WindowRecord = {
      startAt: 1000,
      endAt: 2000,
      wallMs: 800,
      loop: { count: 10, p50: 1, p99: 2, max: 3 },
      elu: 0.5,
      cpuWaitMs: 3,
      cpuWaitPerWakeUs: 12,
      gcMs: 4,
      gcMaxMs: 2.5,
      answersMatch: true,
      poolThreads: null,
    };
    const acks = [
      { sentAt: 999, latencyMs: 50_000 }, // before the window
      { sentAt: 1000, latencyMs: 1 },
      { sentAt: 1500, latencyMs: 3500 },
      { sentAt: 1600, latencyMs: -1 }, // failed
      { sentAt: 1999, latencyMs: 2 },
      { sentAt: 2000, latencyMs: 60_000 }, // after
    ];
    expect(acksIn(acks, window)).toEqual({ latencies: [1, 3500, 2], failed: 1 });
    const f = windowFigures(window, acks);
    expect(f).toMatchObject({ wallMs: 800, loopP99Ms: 2, loopMaxMs: 3, elu: 0.5, cpuWaitPerWakeUs: 12, gcMaxMs: 2.5, ackMaxMs: 3500, acksOver3s: 2, acks: 4 });
    expect(medianFigures([f, { ...f, wallMs: 1000 }, { ...f, wallMs: 900 }]).wallMs).toBe(900);
  });
});
