/**
 * Watching the main thread's event loop around one piece of work, the way the
 * other benchmarks do: `monitorEventLoopDelay({ resolution: 1 })` enabled a
 * turn before the work starts (a histogram enabled in the same turn as a stall
 * does not record it), a 1 ms interval that records every gap between its
 * ticks (the longest is the "loop max"), and the longest main-thread garbage
 * collection pause (PerformanceObserver `gc`).
 */
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the loop went through while it was watched; times in milliseconds. */
export interface LoopFigures {
  /** The longest gap between two ticks of the 1 ms interval (about 1.1 ms on an idle loop). */
  readonly loopMaxMs: number;
  /** The delay histogram's p99 and max. */
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
  /** The longest main-thread GC pause, and their sum. */
  readonly gcMaxMs: number;
  readonly gcTotalMs: number;
}

export interface LoopWatch {
  /** After a tail of `tailMs` (so a stall at the very end is recorded), stops watching and returns the figures. */
  stop(tailMs?: number): Promise<LoopFigures>;
}

/** How long after the work the loop is still watched by default, in milliseconds. */
export const TAIL_MS = 100;

/**
 * Starts watching; resolves once the histogram and the interval have run a
 * turn, so the work can start right after the `await`.
 */
export async function watchLoop(): Promise<LoopWatch> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const pauses: { start: number; ms: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, ms: e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const t = performance.now();
    if (t - last > maxGap) maxGap = t - last;
    last = t;
  }, 1);
  histogram.enable();
  // A turn or two, so the histogram's timer and the interval are running when the work begins. The histogram is
  // not reset after it: a reset forgets the last tick's time, and the stall that follows it would go unrecorded,
  // as it does when the histogram is enabled in the stall's own turn.
  await sleep(2);
  maxGap = 0;
  const from = performance.now();
  return {
    async stop(tailMs = TAIL_MS) {
      await sleep(tailMs);
      const to = performance.now();
      histogram.disable();
      clearInterval(ticker);
      // A gap still open when the interval stops counts too.
      maxGap = Math.max(maxGap, to - last);
      // GC entries are delivered after the fact: give the observer a turn before reading them.
      await sleep(1);
      observer.disconnect();
      const inside = pauses.filter((p) => p.start >= from && p.start < to).map((p) => p.ms);
      return {
        loopMaxMs: maxGap,
        delayP99Ms: histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0,
        delayMaxMs: histogram.count > 0 ? histogram.max / 1e6 : 0,
        gcMaxMs: Math.max(0, ...inside),
        gcTotalMs: inside.reduce((a, b) => a + b, 0),
      };
    },
  };
}
