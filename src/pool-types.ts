/**
 * The public shape of a pool, kept apart from its implementation: this
 * module's declarations must stand on their own (no Piscina, no pino, nothing
 * of the pool's internals), since a strict consumer type-checks every
 * declaration file they reach.
 */
import type { AnswerState } from './answers/lifecycle.js';
import type { ExplainReport } from './explain.js';
import type { ProbeKind, Scope } from './config/schema.js';

/** What a gateway calls today: does this provider have usable auth? */
export type AuthChecker = (provider: string, modelApi?: string) => Promise<boolean>;

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
  /** Checks answered `false` because the id is not one a provider can have (a `/`, a space, over 256 characters); `explain()` names why. */
  readonly refusedIds: number;
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
  /**
   * SQLite stores' auth rows read again after their database changed (or at a verify pass), one read per database
   * in a worker: a write that leaves them as they were (the gateway's transcripts, on every message) costs this alone.
   */
  readonly storeRowChecks: number;
  /** Misses that joined an answer's run already under way (a first run, or one after an expiry). */
  readonly coalesced: number;
  /** Answers published `false` as undecided: checks waited for their run `answerWithinMs` and it was still under way. */
  readonly undecided: number;
  readonly warms: number;
  /** Distinct answers with a run under way right now: what `maxQueue` bounds. */
  readonly answersInFlight: number;
  /** Kept answers by the state of their life (see the README's "An answer's life"): `probing`, `expired`, `undecided`, `fresh`, `refreshing`, `held`, `stale` (`retired` ones are no longer kept: always 0). */
  readonly answerStates: Readonly<Record<AnswerState, number>>;
  /** Worker tasks waiting for a free thread (Piscina's queue: unbounded, fed only by answers in flight). */
  readonly tasksQueued: number;
  readonly threads: number;
  /** CLIs holding a slot of the pool's command budget now (`maxConcurrentCommands` at most, over every thread). */
  readonly commandsRunning: number;
  /** The most CLIs that held a slot of the budget at once, since the pool started. */
  readonly commandsPeak: number;
  /** Probes that ran past their deadline, whoever cut them off: the watchdog, or a command's own timeout. */
  readonly timeouts: number;
  readonly crashes: number;
  /** Tasks run again because their worker thread was ended for another task's probe that ran past its deadline. */
  readonly collateralRuns: number;
  /** Time tasks spent running in a worker. */
  readonly runTime: DurationSummary;
  /** Time tasks waited in the queue. */
  readonly waitTime: DurationSummary;
}

/** What `warm()` did. */
export interface WarmReport {
  /** False when an answer was dropped before it was published (`invalidate()`, a cap on answers or scopes): then not every answer of the report is kept. */
  readonly published: boolean;
  /** Normalised provider id → whether it has auth (for a target without a modelApi, or whose probes do not receive one). */
  readonly answers: Readonly<Record<string, boolean>>;
  /** Normalised provider id → modelApi → whether it has auth: targets that named a modelApi its module probes receive. */
  readonly modelApiAnswers: Readonly<Record<string, Readonly<Record<string, boolean>>>>;
  /** Providers whose probes failed (timeout, crash, unreadable file) with nothing earlier to fall back on: answered `false`, and kept as a remembered failure, retried with backoff. */
  readonly failed: readonly string[];
  /** Worker tasks used. */
  readonly dispatches: number;
  readonly durationMs: number;
}

/** How far a `warm()` has got: providers answered so far, of `total`. */
export interface WarmProgress {
  readonly done: number;
  readonly total: number;
}

/** A `warm()` target for the checks a gateway makes with a modelApi (`hasAuth(m.provider, m.api)`). */
export interface WarmTarget {
  readonly provider: string;
  /** Matters only to providers with module probes, which receive it; others are warmed by id. */
  readonly modelApi?: string | undefined;
}

export interface ExplainOptions {
  /** Stop at the first probe that finds auth, as a check does. */
  readonly stopAtFirst?: boolean;
  /** The modelApi a check would pass: module probes receive it, and the kept answer reported is that modelApi's. */
  readonly modelApi?: string;
}

export interface WarmOptions {
  /** Called as answers arrive: at the start, then at most every 50 ms, ending at the total before the warm resolves. */
  readonly onProgress?: (progress: WarmProgress) => void;
}

/** Emitted as `change` when a kept answer flips, e.g. after a CLI login writes its credential file. */
export interface AuthChangeEvent {
  readonly provider: string;
  /** Set only for providers whose answers depend on modelApi (module probes). */
  readonly modelApi: string | undefined;
  readonly previous: boolean;
  readonly current: boolean;
  readonly scope: { readonly agentDir?: string | undefined; readonly workspaceDir?: string | undefined; readonly agentId?: string | undefined };
}

export interface AuthProbePool {
  /** A checker with its own memo over the scope's shared answers (an agent, a workspace, an env). */
  createChecker(scope?: Scope): AuthChecker;
  /** One answer, through a checker shared by all calls with an equal scope. */
  hasAuth(provider: string, scope?: Scope): Promise<boolean>;
  /**
   * Runs every probe of the provider and reports each outcome. Never contains a secret.
   * With `stopAtFirst`, stops at the first probe that finds auth, as a check does.
   */
  explain(provider: string, scope?: Scope, options?: ExplainOptions): Promise<ExplainReport>;
  /**
   * Probes many providers in few tasks and publishes the answers for later checks in the scope; a target with a
   * modelApi prepares the checks made with it. A run already under way for a target is not discarded: the warm is
   * answered by the next run to start.
   */
  warm(providers: Iterable<string | WarmTarget>, scope?: Scope, options?: WarmOptions): Promise<WarmReport>;
  /** Drops every kept answer; a warm or refresh in progress will not publish. */
  invalidate(): void;
  stats(): PoolStats;
  /** Drains in-flight work (or, with `force`, aborts it and kills its CLIs), stops watching, ends every worker and stops the spawn helper. */
  close(options?: { force?: boolean }): Promise<void>;
  on(event: 'change', listener: (event: AuthChangeEvent) => void): this;
  once(event: 'change', listener: (event: AuthChangeEvent) => void): this;
  off(event: 'change', listener: (event: AuthChangeEvent) => void): this;
}
