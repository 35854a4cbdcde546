/** `pool.stats()`: counters of our own plus Piscina's queue, threads and histograms. */
import type { RecordableHistogram } from 'node:perf_hooks';
import type { AnswerBook } from './answers/book.js';
import type { Dispatcher } from './dispatch.js';
import type { ProbeKind } from './schema.js';
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
  /** Probes run, by kind: a store write should re-run file probes, never CLIs. */
  readonly probesRunByKind: Readonly<Record<ProbeKind, number>>;
  /** Checks answered from a checker's cache. */
  readonly cacheHits: number;
  /** Checks that missed the cache. */
  readonly misses: number;
  /** Misses answered from the scope's kept answers (a `warm()`, another checker), with no dispatch. */
  readonly snapshotHits: number;
  /** Expired answers served while a background refresh ran (stale-while-revalidate). */
  readonly staleHits: number;
  /** Background runs of answers in hand: an expiry, a file change, a failure's backoff ending. */
  readonly refreshes: number;
  /** How long answers in hand waited for their refresh to publish (from the change or expiry that made it due). */
  readonly refreshTime: DurationSummary;
  /** Kept answers that flipped (each one emitted as a `change` event). */
  readonly changes: number;
  /** `change` listeners that threw (each logged; never surfaced to a caller). */
  readonly listenerErrors: number;
  /** Answers kept now, over all scopes (at most `maxAnswers`), and scopes holding them (at most `maxScopes`). */
  readonly answers: number;
  readonly scopes: number;
  /** Answers served from a failing probe's last good outcome right now. */
  readonly degraded: number;
  /** Answers false right now because a probe failed with nothing earlier to fall back on (retried with backoff). */
  readonly failing: number;
  /** Answers dropped: expired unused, pushed out by a cap, or `invalidate()`. */
  readonly evictions: number;
  /** Paths followed for changes, and how: `watch` (fs.watch on their directories) or `poll` (fingerprints on an interval). */
  readonly watchedPaths: number;
  readonly watchMode: 'watch' | 'poll';
  /** Misses that joined an answer's first run already under way. */
  readonly coalesced: number;
  readonly warms: number;
  /** Answers being probed right now. */
  readonly inFlight: number;
  /** Tasks waiting for a free worker. */
  readonly queueSize: number;
  readonly threads: number;
  /** Probes that ran past their deadline, whoever cut them off: the watchdog, or a command's own timeout. */
  readonly timeouts: number;
  readonly crashes: number;
  /** Time tasks spent running in a worker. */
  readonly runTime: DurationSummary;
  /** Time tasks waited in the queue. */
  readonly waitTime: DurationSummary;
}

type Counters = { cacheHits: number; staleHits: number; misses: number; snapshotHits: number; warms: number; listenerErrors: number };

const EMPTY: DurationSummary = Object.freeze({ count: 0, mean: 0, p50: 0, p99: 0, max: 0 });

/** A histogram recorded in microseconds, summarised in milliseconds. */
function fromMicros(h: RecordableHistogram): DurationSummary {
  if (h.count === 0) return EMPTY;
  return { count: h.count, mean: h.mean / 1000, p50: h.percentile(50) / 1000, p99: h.percentile(99) / 1000, max: h.max / 1000 };
}

export function snapshotStats(counters: Counters, dispatcher: Dispatcher, book: AnswerBook, watcher: Pick<DependencyWatcher<never>, 'size' | 'mode'>): PoolStats {
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
    probesRunByKind: { ...d.probesByKind },
    ...counters,
    ...book.counters,
    refreshTime: fromMicros(book.refreshTime),
    answers: book.size,
    scopes: book.scopes.size,
    ...book.health(),
    watchedPaths: watcher.size,
    watchMode: watcher.mode,
    inFlight: book.inFlight,
    queueSize: pool?.queueSize ?? 0,
    threads: pool?.threads.length ?? 0,
    timeouts: d.timeouts,
    crashes: d.crashes,
    runTime: summary('runTime'),
    waitTime: summary('waitTime'),
  };
}
