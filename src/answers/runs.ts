/**
 * The work behind an answer's transitions (see `lifecycle.ts`): starting its
 * runs and taking their results, publishing (a flip is a `change` event),
 * holding a run that cannot be dispatched, expiring a `true`, the
 * `answerWithinMs` deadline, and the one timed event each state keeps (on
 * the pool's one timer, `timers.ts`). The book (`book.ts`) decides when; this
 * does it.
 */
import { performance, type RecordableHistogram } from 'node:perf_hooks';
import type { ResolvedOptions } from '../config/options.js';
import type { ProviderResult } from '../config/schema.js';
import type { AuthProbeError } from '../errors.js';
import type { Answer, RunRecord } from './answer.js';
import type { QueuedRun, RunBatcher } from './batcher.js';
import type { Cell, Lifetimes } from './cell.js';
import { WAITING } from './lifecycle.js';
import type { ScopeState } from './scopes.js';
import type { DependencyWatcher } from './watcher.js';
import type { Slices } from '../slices.js';
import { TimerHeap } from './timers.js';

/** An answer kept in a scope of the book. */
export type Answered = Answer & { readonly home: ScopeState };

/** What the runs count, shared with the book's `stats()` counters. */
export interface RunCounters {
  refreshes: number;
  changes: number;
  undecided: number;
}

/** The pool's parts the runs use. */
export interface RunParts {
  readonly options: ResolvedOptions;
  readonly batcher: RunBatcher;
  readonly watcher: DependencyWatcher<Cell<Answer>>;
  /** Where timers do their work: a thousand answers due at once are moved on a slice of a turn at a time. */
  readonly slices: Slices;
  readonly counters: RunCounters;
  readonly refreshTime: RecordableHistogram;
  /** A published answer flipped. */
  readonly onChange: (answer: Answer, previous: boolean) => void;
  /** Drops an answer from the book. */
  readonly evict: (answer: Answered) => void;
}

/** A run under way: the answer's record of it, and what the batcher hands its result to. */
class AnswerRun implements RunRecord, QueuedRun {
  readonly id: string;
  readonly state: ScopeState;

  constructor(
    readonly answer: Answered,
    readonly seq: number,
    readonly only: readonly number[] | undefined,
    readonly owner: AnswerRuns,
  ) {
    this.id = answer.id;
    this.state = answer.home;
  }

  ended(result: ProviderResult): void {
    this.owner.finish(this.answer, result);
  }

  refused(err: unknown): void {
    this.owner.runFailed(this.answer, err);
  }
}

export class AnswerRuns {
  /** Answers with a run under way: what `maxQueue` bounds. */
  running = 0;
  /** The pool is closing: no run starts, no timer is set. */
  closed = false;
  readonly #options: ResolvedOptions;
  readonly #life: Lifetimes;
  readonly #batcher: RunBatcher;
  readonly #watcher: DependencyWatcher<Cell<Answer>>;
  readonly #slices: Slices;
  readonly #counters: RunCounters;
  readonly #refreshTime: RecordableHistogram;
  readonly #onChange: (answer: Answer, previous: boolean) => void;
  readonly #evict: (answer: Answered) => void;
  /** Every answer's next timed event; what comes is moved on in a slice, a deadline if the answer is still waiting. */
  readonly #timers = new TimerHeap<Answered>((answer, id) => this.#slices.run(() => (WAITING.has(answer.state) ? this.#deadline(answer, id) : this.#timeUp(answer, id))));

  constructor(parts: RunParts) {
    this.#options = parts.options;
    this.#life = { positiveTtlMs: parts.options.positiveTtlMs, negativeTtlMs: parts.options.negativeTtlMs, backoff: parts.options.failureBackoff };
    this.#batcher = parts.batcher;
    this.#watcher = parts.watcher;
    this.#slices = parts.slices;
    this.#counters = parts.counters;
    this.#refreshTime = parts.refreshTime;
    this.#onChange = parts.onChange;
    this.#evict = parts.evict;
  }

  /** Every probe due now, but those in a failure's backoff. */
  force(answer: Answer, now: number): void {
    for (const cell of answer.cells) if (!(cell.state === 'failed' && cell.dueAt > now)) cell.force();
  }

  /** Runs the answer's due probes (a published one: `refresh`, or `blocked` at `maxQueue`), or publishes when none is due. */
  refresh(answer: Answered, now: number): void {
    if (answer.state === 'retired' || answer.run || this.closed) return;
    const due = answer.due(now);
    if (due.length === 0) {
      if (WAITING.has(answer.state)) return this.#publish(answer, now, Infinity);
      // Nothing to run (every probe in a backoff): what is served is the newest there is.
      answer.publish(answer.auth, now, Infinity);
      return this.schedule(answer, now);
    }
    // A new answer's first run is bounded before it is made (or not at all, for warm()); any other waits its turn.
    if (answer.state !== 'probing' && this.running >= this.#options.maxQueue) return this.#block(answer, now);
    if (answer.served) {
      answer.on('refresh');
      this.#counters.refreshes++;
      answer.staleSince ??= performance.now();
    }
    this.#start(answer, due);
  }

  #start(answer: Answered, positions: readonly number[]): void {
    const only = positions.length === answer.cells.length ? undefined : positions;
    for (const cell of answer.cells) cell.runGen = cell.gen;
    const run = new AnswerRun(answer, ++answer.runs, only, this);
    answer.run = run;
    this.running++;
    this.#batcher.enqueue(answer.modelApi, run);
    // A published answer's timer is its expiry now; a waiting one's is the checks' deadline, left as it is.
    if (!WAITING.has(answer.state)) this.schedule(answer, Date.now());
  }

  /** A run ended (the batcher's call): its outcomes are taken by the cells it may decide, then more runs or a publication. */
  finish(answer: Answered, result: ProviderResult): void {
    const run = answer.run;
    answer.run = undefined;
    this.running--;
    if (!run || answer.state === 'retired') return answer.release(result.auth || answer.combine(Date.now()));
    const now = Date.now();
    this.#applyOutcomes(answer, run, result, now);
    if (this.closed) return answer.release(answer.combine(now));
    // More to learn before publishing (the probe that found auth is gone; a file changed meanwhile): run that first.
    const due = answer.due(now);
    if (due.length > 0) return this.#start(answer, due);
    this.#publish(answer, now, run.seq);
    // A warm that came while it ran wants a run that started after it (#refresh skips an answer a listener dropped).
    if (answer.wantsRun) {
      this.force(answer, now);
      this.refresh(answer, now);
    }
  }

  #applyOutcomes(answer: Answer, { only }: RunRecord, result: ProviderResult, now: number): void {
    for (const outcome of result.probes) {
      const cell = answer.cells[outcome.position];
      // A run that started before the cell's inputs changed does not decide it (the cell stays due), unless it read the files as last seen.
      if (!cell?.current(outcome, cell.runGen)) continue;
      cell.apply(outcome, now, this.#life);
      this.#watcher.track(cell);
    }
    if (result.auth) return;
    // Every probe asked for should have been reported: one that was not (the whole task failed) failed.
    for (const cell of answer.cells) {
      if ((only && !only.includes(cell.position)) || cell.gen !== cell.runGen || reportedIn(result, cell.position)) continue;
      cell.fail(now, this.#life);
    }
  }

  /** The run could not be dispatched (a closed pool; the batcher's call): an answer with a value keeps it and tries again later. */
  runFailed(answer: Answered, err: unknown): void {
    answer.run = undefined;
    this.running--;
    if (answer.state === 'retired' || answer.state === 'probing') {
      if (answer.state === 'probing') answer.on('blocked');
      this.#evict(answer);
      return answer.release(undefined, err);
    }
    this.#options.logger.warn({ provider: answer.id, code: (err as AuthProbeError).code ?? 'unknown' }, 'background refresh could not be dispatched');
    this.#block(answer, Date.now());
    answer.release(answer.auth);
  }

  /** No run can be dispatched now: `held`, tried again after the backoff; an expired one publishes what is left. */
  #block(answer: Answered, now: number): void {
    if (answer.state === 'expired') this.#flip(answer, answer.publish(answer.combine(now), now, -1));
    answer.on('blocked');
    answer.stateEndsAt = now + this.#life.backoff.initialMs;
    this.schedule(answer, now);
  }

  /** Publishes a run's answer (`seq`: the run, for the warms waiting); a flip is a `change` event. */
  #publish(answer: Answered, now: number, seq: number): void {
    const waited = answer.staleSince;
    const before = answer.publish(answer.combine(now), now, seq);
    answer.on('publish');
    if (waited !== undefined) this.#refreshTime.record(Math.max(1, Math.round((performance.now() - waited) * 1000)));
    this.schedule(answer, now);
    this.#flip(answer, before);
  }

  #flip(answer: Answered, before: boolean | undefined): void {
    if (before === undefined || before === answer.auth) return;
    this.#counters.changes++;
    // Whoever was told of the flip must hear of the flip back: keep following it.
    answer.followed = true;
    this.#onChange(answer, before);
  }

  /** A `true` it served rested on findings whose expiry has come: not served until a run publishes. */
  expire(answer: Answered, now: number): void {
    this.#timers.clear(answer);
    answer.on('expire');
    if (!answer.run) this.refresh(answer, now);
    else this.schedule(answer, now);
  }

  /** With `answerWithinMs`, checks waiting for a run get `false` (undecided) when it passes; the run goes on. */
  armDeadline(answer: Answered): void {
    const within = this.#options.answerWithinMs;
    if (within === undefined || answer.timer !== 0) return;
    this.#timers.set(answer, within);
  }

  #deadline(answer: Answered, id: number): void {
    // An event cleared or set again while its work waited for a slice is not this answer's any more.
    if (answer.timer !== id) return;
    answer.timer = 0;
    const within = this.#options.answerWithinMs;
    if (!WAITING.has(answer.state) || this.closed) return;
    this.#counters.undecided++;
    const before = answer.publishUndecided();
    answer.on('deadline');
    this.#options.logger.debug({ provider: answer.id, answerWithinMs: within }, 'answered undecided');
    this.#flip(answer, before);
  }

  /** Sets the timer of the state's next timed event: a due time or an expiry, a hold's retry, a stale answer's drop. */
  schedule(answer: Answered, now: number): void {
    this.#timers.clear(answer);
    const state = answer.state;
    if (state === 'retired' || WAITING.has(state) || this.closed) return;
    let at = answer.trueUntil;
    if (state === 'fresh') at = Math.min(at, answer.nextDueAt(now, this.#options.negativeTtlMs));
    else if (state === 'held' || state === 'stale') at = Math.min(at, answer.stateEndsAt);
    if (at === Infinity) return;
    this.#timers.set(answer, at - now);
  }

  /** Drops the dead entries of the timers (after `invalidate()`): they hold answers nobody keeps. */
  compactTimers(): void {
    this.#timers.compact();
  }

  /** The pool is closing: no run starts, no timed event comes. */
  close(): void {
    this.closed = true;
    this.#timers.stop();
  }

  /** The state's timed event came. */
  #timeUp(answer: Answered, id: number): void {
    // An event cleared or set again while its work waited for a slice is not this answer's any more.
    if (answer.timer !== id) return;
    answer.timer = 0;
    const now = Date.now();
    const state = answer.state;
    if (state === 'retired' || this.closed) return;
    if (answer.trueUntil <= now) {
      // Nobody uses a stale answer: past its expiry it is dropped, not probed.
      return state === 'stale' ? this.#evict(answer) : this.expire(answer, now);
    }
    if (state === 'held') return this.refresh(answer, now);
    if (state === 'stale') return answer.stateEndsAt <= now ? this.#evict(answer) : this.schedule(answer, now);
    // A refreshing answer's timer is its expiry, fired a millisecond early by the wall clock: set again.
    if (state !== 'fresh') return this.schedule(answer, now);
    // Timers keep a monotonic clock and may fire a millisecond before the wall clock reaches the due time.
    if (answer.nextDueAt(now, 0) > now) return this.schedule(answer, now);
    if (answer.used || answer.followed) {
      answer.used = false;
      return this.refresh(answer, now);
    }
    answer.on('idle');
    // A remembered failure outlives the stale window, up to the longest backoff: a gateway that lists models every
    // few minutes must not wait for the same hung CLI each time, and the backoff must get the chance to grow.
    answer.stateEndsAt = now + (answer.failing ? Math.max(this.#options.staleMs, this.#life.backoff.maxMs) : this.#options.staleMs);
    this.schedule(answer, now);
  }
}

/** Whether the result reports the probe at `position`: a plan's few probes, looked for only when none found auth. */
function reportedIn(result: ProviderResult, position: number): boolean {
  for (const outcome of result.probes) if (outcome.position === position) return true;
  return false;
}
