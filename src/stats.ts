/** `pool.stats()`: counters of our own plus Piscina's queue, threads and histograms. */
import type { ScopeState } from './coalesce.js';
import type { Dispatcher } from './dispatch.js';
import type { DependencyWatcher } from './watch.js';
// The public types live with the pool's public shape, whose declarations import nothing of Piscina's.
import type { DurationSummary, PoolStats } from './pool-types.js';

export type { DurationSummary, PoolStats };

type Counters = { cacheHits: number; staleHits: number; misses: number; snapshotHits: number; coalesced: number; warms: number; refreshes: number; changes: number };

const EMPTY: DurationSummary = Object.freeze({ count: 0, mean: 0, p50: 0, p99: 0, max: 0 });

export function snapshotStats(counters: Counters, dispatcher: Dispatcher, scopes: Iterable<ScopeState>, watcher: Pick<DependencyWatcher<never>, 'size' | 'mode'>): PoolStats {
  let inFlight = 0;
  for (const s of scopes) inFlight += s.inflight.size;
  const pool = dispatcher.piscina;
  const summary = (which: 'runTime' | 'waitTime'): DurationSummary => {
    if (!pool) return EMPTY;
    const h = pool.histogram[which];
    return { count: pool.completed, mean: h.mean, p50: h.p50, p99: h.p99, max: h.max };
  };
  const d = dispatcher.counters;
  return {
    dispatches: d.tasks,
    providersProbed: d.providersProbed,
    probesRun: d.probesRun,
    ...counters,
    watchedPaths: watcher.size,
    watchMode: watcher.mode,
    inFlight,
    queueSize: pool?.queueSize ?? 0,
    threads: pool?.threads.length ?? 0,
    timeouts: d.timeouts,
    crashes: d.crashes,
    runTime: summary('runTime'),
    waitTime: summary('waitTime'),
  };
}
