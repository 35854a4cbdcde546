/** `pool.stats()`: counters of our own plus Piscina's queue, threads and histograms. */
import type { RecordableHistogram } from 'node:perf_hooks';
import type { AnswerBook } from './answers/book.js';
import type { Dispatcher } from './dispatch/dispatcher.js';
import type { DependencyWatcher } from './answers/watcher.js';
import type { DurationSummary, PoolStats } from './pool-types.js';

// The public types live with the pool's public shape, whose declarations import nothing of Piscina's.
export type { DurationSummary, PoolStats };

type Counters = { cacheHits: number; staleHits: number; misses: number; snapshotHits: number; warms: number; listenerErrors: number; refusedIds: number };

const EMPTY: DurationSummary = Object.freeze({ count: 0, mean: 0, p50: 0, p99: 0, max: 0 });

/** A histogram recorded in microseconds, summarised in milliseconds. */
function fromMicros(h: RecordableHistogram): DurationSummary {
  if (h.count === 0) return EMPTY;
  return { count: h.count, mean: h.mean / 1000, p50: h.percentile(50) / 1000, p99: h.percentile(99) / 1000, max: h.max / 1000 };
}

export function snapshotStats(counters: Counters, dispatcher: Dispatcher, book: AnswerBook, watcher: Pick<DependencyWatcher<never>, 'size' | 'mode' | 'rowChecks'>): PoolStats {
  const pool = dispatcher.piscina;
  const summary = (which: 'runTime' | 'waitTime'): DurationSummary => {
    if (!pool) return EMPTY;
    const h = pool.histogram[which];
    return { count: pool.completed, mean: h.mean, p50: h.p50, p99: h.p99, max: h.max };
  };
  const d = dispatcher.counters;
  const commands = dispatcher.commands;
  return {
    dispatches: d.tasks,
    providersProbed: d.providersProbed,
    probesRun: d.probesRun,
    probesRunByKind: { ...d.probesByKind },
    ...counters,
    ...book.counters,
    refreshTime: fromMicros(book.refreshTime),
    answers: book.size,
    scopes: book.scopes.size,
    ...book.health(),
    watchedPaths: watcher.size,
    watchMode: watcher.mode,
    storeRowChecks: watcher.rowChecks,
    answersInFlight: book.answersInFlight,
    tasksQueued: pool?.queueSize ?? 0,
    threads: pool?.threads.length ?? 0,
    commandsRunning: commands.running,
    commandsPeak: commands.peak,
    timeouts: d.timeouts,
    crashes: d.crashes,
    collateralRuns: d.collateralRuns,
    runTime: summary('runTime'),
    waitTime: summary('waitTime'),
  };
}
