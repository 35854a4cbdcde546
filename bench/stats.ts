/**
 * The statistics the benchmark reports: percentiles of samples, medians over
 * repeated sweeps, figures from a perf_hooks histogram, and ratios.
 */
import type { RecordableHistogram, IntervalHistogram } from 'node:perf_hooks';

/** A distribution's summary; units are those of the input (milliseconds throughout the benchmark). */
export interface Summary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * The `p`-th percentile (0–100) of `values` by the nearest-rank method: the
 * smallest value with at least p % of the values at or below it. NaN when
 * there are no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return percentileOfSorted(sorted, p);
}

function percentileOfSorted(sorted: readonly number[], p: number): number {
  const rank = Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * sorted.length);
  return sorted[Math.max(rank - 1, 0)] as number;
}

/** Count, p50, p99 and max of `values`; NaN figures when empty. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentileOfSorted(sorted, 50), p99: percentileOfSorted(sorted, 99), max: sorted[sorted.length - 1] as number };
}

/** The median of `values` (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => !Number.isNaN(v));
  if (finite.length === 0) return Number.NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * p50, p99 and max of a perf_hooks histogram (which records nanoseconds),
 * in milliseconds. An empty histogram gives zeros rather than its sentinels.
 */
export function histogramMs(h: RecordableHistogram | IntervalHistogram): Summary {
  if (h.count === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  return { count: h.count, p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

/** `a / b`, or NaN when `b` is not a positive number. */
export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) ? a / b : Number.NaN;
}

/** Rounds to `digits` significant digits (for ratios, which span 1e-4 to 1e4), leaving NaN and infinities as they are. */
export function significant(value: number, digits = 3): number {
  return Number.isFinite(value) && value !== 0 ? Number(value.toPrecision(digits)) : value;
}

/** Rounds to `digits` decimals, leaving NaN and infinities as they are. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Runs `op` `iterations` times (awaiting each) after `warmup` untimed runs and
 * returns the time per operation, in nanoseconds: the best of `rounds` rounds,
 * which is the least disturbed by other work on a shared machine.
 */
export async function nsPerOp(op: () => unknown, iterations: number, rounds = 5, warmup = iterations): Promise<number> {
  for (let i = 0; i < warmup; i++) await op();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await op();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / iterations);
  }
  return best;
}
