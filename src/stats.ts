/** `pool.stats()`: counters of our own plus Piscina's queue, threads and histograms. */
import type { ScopeState } from './coalesce.js';
import type { Dispatcher } from './dispatch.js';
import type { DependencyWatcher } from './watch.js';

/** Distribution of a duration, in milliseconds. */
export interface DurationSummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface PoolStats {
  /** Worker tasks sent (one task may probe many providers). */
  readonly dispatches: number;
  readonly providersProbed: number;
  readonly probesRun: number;
  /** Checks answered from a checker's cache. */
  readonly cacheHits: number;
  /** Checks that missed the cache. */
  readonly misses: number;
  /** Misses answered from the scope's kept answers (a `warm()`, another checker), with no dispatch. */
  readonly snapshotHits: number;
  /** Expired answers served while a background refresh ran (stale-while-revalidate). */
  readonly staleHits: number;
  /** Background refreshes started: stale-while-revalidate, and re-probes after a file change. */
  readonly refreshes: number;
  /** Kept answers that flipped (each one emitted as a `change` event). */
  readonly changes: number;
  /** Paths followed for changes, and how: `watch` (fs.watch on their directories) or `poll` (fingerprints on an interval). */
  readonly watchedPaths: number;
  readonly watchMode: 'watch' | 'poll';
  /** Misses that joined a dispatch already in flight for the same key. */
  readonly coalesced: number;
  readonly warms: number;
  /** Keys being probed right now. */
  readonly inFlight: number;
  /** Tasks waiting for a free worker. */
  readonly queueSize: number;
  readonly threads: number;
  readonly timeouts: number;
  readonly crashes: number;
  /** Time tasks spent running in a worker. */
  readonly runTime: DurationSummary;
  /** Time tasks waited in the queue. */
  readonly waitTime: DurationSummary;
}

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
