/**
 * The answer book: every kept answer of the pool, moved through the states of
 * `lifecycle.ts`. The book decides which event happened (a check, a result, a
 * file change, a timer) and does its work: runs, publications, `change`
 * events, watches. It keeps no state of an answer's own; the rules:
 *
 * - A probe's outcome is kept per probe (`cell.ts`), with its own
 *   dependencies and expiry; a file change re-runs only the probes that read
 *   the file, and an expiry only the probes that decide the answer.
 * - A failure never replaces a known answer at once: the failing probe's
 *   last good outcome keeps serving (degraded) while it is retried with
 *   backoff, until the failure has lasted `cacheTtlMs.positive`. With nothing
 *   to fall back on, the answer is false and the failure is remembered for
 *   the backoff, so nobody waits for the same hung CLI twice.
 * - A refresh never makes a caller wait: the answer in hand is served until
 *   the new one is published, except past a `true`'s expiry, which is never
 *   served. Waits are bounded by `answerWithinMs`, when set.
 * - A run that started before a change to its inputs never decides an
 *   answer: it runs again. A `warm()` never discards a run under way: it is
 *   answered by the next run to start.
 */
import { createHistogram, performance } from 'node:perf_hooks';
import type { ProbeKind, ProviderResult } from '../config/schema.js';
import type { ResolvedOptions } from '../config/options.js';
import { AuthProbeError, errorData } from '../errors.js';
import type { KeptAnswer } from '../explain.js';
import type { RunBatcher } from './batcher.js';
import { Answer, type AnswerHome } from './answer.js';
import type { Cell, Lifetimes } from './cell.js';
import { ANSWER_STATES, WAITING, type AnswerState } from './lifecycle.js';
import { ScopeRegistry, type ScopeState } from './scopes.js';
import type { DependencyWatcher, FileChange } from './watcher.js';

export interface BookCounters {
  /** Background runs of a served answer: expiry, a file change, a backoff ending. */
  refreshes: number;
  /** Published answers that flipped. */
  changes: number;
  /** Answers dropped: expired unused, pushed out by a cap, or `invalidate()`. */
  evictions: number;
  /** Misses that joined an answer's run already under way. */
  coalesced: number;
  /** Answers published `false` as undecided, their run still under way at `answerWithinMs`. */
  undecided: number;
}

/** One provider a `warm()` asks for: its id, its key in the scope, the modelApi it is kept by, and its plan's kinds. */
export interface WarmEntry {
  readonly id: string;
  readonly key: string;
  readonly modelApi: string | undefined;
  readonly kinds: readonly ProbeKind[];
}

// Part of the public `explain()` report: declared with it, so the package's declarations never reach this module's.
export type { KeptAnswer };

type Answered = Answer & { readonly home: ScopeState };

export class AnswerBook {
  readonly counters: BookCounters = { refreshes: 0, changes: 0, evictions: 0, coalesced: 0, undecided: 0 };
  /** How long served answers waited for their refresh to publish, in µs: a change's staleness. */
  readonly refreshTime = createHistogram();
  readonly scopes: ScopeRegistry;
  readonly #options: ResolvedOptions;
  readonly #life: Lifetimes;
  readonly #batcher: RunBatcher;
  readonly #watcher: DependencyWatcher<Cell<Answer>>;
  readonly #onChange: (answer: Answer, previous: boolean) => void;
  /** Every kept answer, least recently used (roughly: a clock sweep) first. */
  readonly #all = new Set<Answered>();
  /** Answers with a run under way: what `maxQueue` bounds. */
  #running = 0;
  #closed = false;

  constructor(options: ResolvedOptions, batcher: RunBatcher, watcher: DependencyWatcher<Cell<Answer>>, onChange: (answer: Answer, previous: boolean) => void) {
    this.#options = options;
    this.#life = { positiveTtlMs: options.positiveTtlMs, negativeTtlMs: options.negativeTtlMs, backoff: options.failureBackoff };
    this.#batcher = batcher;
    this.#watcher = watcher;
    this.#onChange = onChange;
    this.scopes = new ScopeRegistry(options.maxScopes, (state) => {
      for (const answer of [...state.answers.values()]) this.#evict(answer as Answered);
    });
  }

  get size(): number {
    return this.#all.size;
  }

  /** Distinct answers with a run under way: bounded by `maxQueue` for new ones. */
  get answersInFlight(): number {
    return this.#running;
  }

  /**
   * The miss path: the scope's kept answer for the key (a stale one is served and refreshed in the background),
   * or a new one, probed and waited for. Returns the bare answer when it was dropped while being probed.
   */
  async lookup(home: ScopeState, key: string, id: string, modelApi: string | undefined, kinds: readonly ProbeKind[]): Promise<Answer | boolean> {
    const now = Date.now();
    let answer = home.answers.get(key) as Answered | undefined;
    if (!answer) {
      if (this.#running >= this.#options.maxQueue) {
        throw new AuthProbeError('E_QUEUE_FULL', `${this.#running} distinct checks waiting, limit ${this.#options.maxQueue}`);
      }
      // The check that creates an answer is not a use: an id checked once (a typo) expires unused and leaves.
      answer = this.#add(home, key, id, modelApi, kinds);
      this.#refresh(answer, now);
    } else {
      if (!answer.served) this.counters.coalesced++;
      this.scopes.touch(home);
      this.#used(answer, now);
    }
    if (WAITING.has(answer.state)) this.#armDeadline(answer);
    const auth = await answer.whenDecided();
    return answer.state === 'retired' ? auth : answer;
  }

  /** A served answer was checked: it is in use; a stale one starts its run, and a `true` past its expiry is not served. */
  revalidate(answer: Answer): void {
    this.#used(answer as Answered, Date.now());
  }

  #used(answer: Answered, now: number): void {
    answer.interest.used = true;
    if (answer.served && answer.auth && answer.trueUntil <= now) this.#expire(answer, now);
    else if (answer.state === 'stale') this.#refresh(answer, now);
  }

  /**
   * Probes the providers again (all but probes in a failure's backoff), publishes, and follows the answers from then
   * on. A run already under way is not discarded: the warm is answered by the next run to start. Resolves with each
   * answer once such a run has published it; `onAnswer` is called as each one is.
   */
  async warm(home: ScopeState, entries: readonly WarmEntry[], onAnswer: () => void): Promise<{ answer: Answer; auth: boolean }[]> {
    const now = Date.now();
    const waits = entries.map(({ id, key, modelApi, kinds }) => {
      const answer = (home.answers.get(key) as Answered | undefined) ?? this.#add(home, key, id, modelApi, kinds);
      answer.interest.followed = true;
      return this.#warmOne(answer, now).then((auth) => {
        onAnswer();
        return { answer, auth };
      });
    });
    return Promise.all(waits);
  }

  #warmOne(answer: Answered, now: number): Promise<boolean> {
    if (answer.state === 'retired') return Promise.resolve(answer.auth);
    // A run under way may have started before whatever the warm is for: the next one answers it (see #finish).
    if (answer.run) return answer.whenRunPublished(answer.runs + 1);
    this.#force(answer, now);
    this.#refresh(answer, now);
    if (answer.run) return answer.whenRunPublished(answer.runs);
    if (answer.state === 'held') return answer.whenRunPublished(answer.runs + 1);
    return Promise.resolve(answer.auth);
  }

  /** Every probe due now, but those in a failure's backoff. */
  #force(answer: Answer, now: number): void {
    for (const cell of answer.cells) if (!(cell.state === 'failed' && cell.dueAt > now)) cell.force();
  }

  /** Files some cells depend on changed: re-run those that decide their answer; forget the others. */
  filesChanged(changes: readonly FileChange<Cell<Answer>>[]): void {
    const touched = new Set<Answered>();
    const now = Date.now();
    for (const { item: cell, path, fingerprint } of changes) {
      const answer = cell.answer as Answered;
      if (answer.state === 'retired') continue;
      // What was seen is now what the cell is compared with: the same file state never dirties it twice.
      cell.observe(path, fingerprint);
      if (answer.decides(cell, now)) {
        cell.changed();
        answer.staleSince ??= performance.now();
        touched.add(answer);
      } else {
        this.#watcher.untrack(cell);
        cell.reset();
      }
    }
    for (const answer of touched) {
      // A run under way re-runs what changed when it ends (the change made its cells due).
      if (answer.run) continue;
      if (this.#options.watch.refreshOnChange) this.#refresh(answer, now);
      else this.#evict(answer);
    }
  }

  /** Drops every answer. A run under way still answers the checks that were waiting for it, but keeps nothing. */
  invalidate(): void {
    for (const answer of [...this.#all]) this.#evict(answer);
  }

  /** The kept answer served for `key`, as `explain()` reports it; undefined when none is served. */
  kept(home: AnswerHome, key: string): KeptAnswer | undefined {
    const answer = home.answers.get(key);
    if (!answer?.served) return undefined;
    const now = Date.now();
    const nextRunInMs = Math.max(0, answer.nextDueAt(now, this.#options.negativeTtlMs) - now);
    return { state: answer.state, auth: answer.auth, degraded: answer.degraded, failing: answer.failing, undecided: answer.state === 'undecided', nextRunInMs };
  }

  /** Kept answers by state; and those served from a failing probe's last good outcome or false for a remembered failure. */
  health(): { answerStates: Record<AnswerState, number>; degraded: number; failing: number } {
    const answerStates = Object.fromEntries(ANSWER_STATES.map((s) => [s, 0])) as Record<AnswerState, number>;
    let degraded = 0;
    let failing = 0;
    for (const answer of this.#all) {
      answerStates[answer.state]++;
      if (!answer.served) continue;
      if (answer.degraded) degraded++;
      else if (answer.failing) failing++;
    }
    return { answerStates, degraded, failing };
  }

  close(): void {
    this.#closed = true;
    for (const answer of [...this.#all]) this.#evict(answer);
  }

  #add(home: ScopeState, key: string, id: string, modelApi: string | undefined, kinds: readonly ProbeKind[]): Answered {
    const answer = new Answer(home, key, id, modelApi, kinds) as Answered;
    home.answers.set(key, answer);
    this.scopes.touch(home);
    this.#all.add(answer);
    if (this.#all.size > this.#options.maxAnswers) this.#trim();
    return answer;
  }

  /** Past `maxAnswers`: a clock sweep drops answers not used since the hand last passed them. */
  #trim(): void {
    let budget = 2 * this.#all.size;
    for (const answer of this.#all) {
      if (this.#all.size <= this.#options.maxAnswers || budget-- <= 0) break;
      // Used since the hand last passed, or not yet decided (a check is waiting for it): a second chance.
      if (answer.interest.used || answer.run || !answer.served) {
        answer.interest.used = false;
        this.#all.delete(answer);
        this.#all.add(answer);
        continue;
      }
      this.#evict(answer);
    }
  }

  /** Runs the answer's due probes (a published one: `refresh`, or `blocked` at `maxQueue`), or publishes when none is due. */
  #refresh(answer: Answered, now: number): void {
    if (answer.state === 'retired' || answer.run || this.#closed) return;
    const due = answer.due(now);
    if (due.length === 0) {
      if (WAITING.has(answer.state)) return this.#publish(answer, now, Infinity);
      // Nothing to run (every probe in a backoff): what is served is the newest there is.
      answer.publish(answer.auth, now, Infinity);
      return this.#schedule(answer, now);
    }
    // A new answer's first run is bounded before it is made (or not at all, for warm()); any other waits its turn.
    if (answer.state !== 'probing' && this.#running >= this.#options.maxQueue) return this.#block(answer, now);
    if (answer.served) {
      answer.on('refresh');
      this.counters.refreshes++;
      answer.staleSince ??= performance.now();
    }
    this.#start(answer, due);
  }

  #start(answer: Answered, positions: readonly number[]): void {
    const run = { positions, gens: answer.cells.map((c) => c.gen), seq: ++answer.runs };
    answer.run = run;
    this.#running++;
    const only = positions.length === answer.cells.length ? undefined : positions;
    this.#batcher.enqueue(answer.modelApi, { id: answer.id, only, state: answer.home }).then(
      (result) => this.#finish(answer, result),
      (err: unknown) => this.#runFailed(answer, err),
    );
    // A published answer's timer is its expiry now; a waiting one's is the checks' deadline, left as it is.
    if (!WAITING.has(answer.state)) this.#schedule(answer, Date.now());
  }

  /** A run ended: its outcomes are taken by the cells it may decide, then more runs or a publication. */
  #finish(answer: Answered, result: ProviderResult): void {
    const run = answer.run;
    answer.run = undefined;
    this.#running--;
    if (!run || answer.state === 'retired') return answer.release(result.auth || answer.combine(Date.now()));
    const now = Date.now();
    this.#applyOutcomes(answer, run.positions, run.gens, result, now);
    if (this.#closed) return answer.release(answer.combine(now));
    // More to learn before publishing (the probe that found auth is gone; a file changed meanwhile): run that first.
    const due = answer.due(now);
    if (due.length > 0) return this.#start(answer, due);
    this.#publish(answer, now, run.seq);
    // A warm that came while it ran wants a run that started after it (#refresh skips an answer a listener dropped).
    if (answer.wantsRun) {
      this.#force(answer, now);
      this.#refresh(answer, now);
    }
  }

  #applyOutcomes(answer: Answer, positions: readonly number[], gens: readonly number[], result: ProviderResult, now: number): void {
    const reported = new Set<number>();
    for (const outcome of result.probes) {
      const cell = answer.cells[outcome.position];
      reported.add(outcome.position);
      // A run that started before the cell's inputs changed does not decide it (the cell stays due), unless it read the files as last seen.
      if (!cell || !cell.current(outcome, gens[outcome.position] ?? -1)) continue;
      const before = cell.deps;
      cell.apply(outcome, now, this.#life);
      this.#watcher.track(cell, before);
    }
    if (result.auth) return;
    // Every probe asked for should have been reported: one that was not (the whole task failed) failed.
    for (const position of positions) {
      const cell = answer.cells[position];
      if (!cell || reported.has(position) || cell.gen !== gens[position]) continue;
      cell.fail(now, this.#life, undefined, result.error ?? errorData('E_BAD_WORKER_RESULT', 'the worker did not report the probe'));
    }
  }

  /** The run could not be dispatched (a closed pool): an answer with a value keeps it and tries again later. */
  #runFailed(answer: Answered, err: unknown): void {
    answer.run = undefined;
    this.#running--;
    if (answer.state === 'retired' || answer.state === 'probing') {
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
    this.#schedule(answer, now);
  }

  /** Publishes a run's answer (`seq`: the run, for the warms waiting); a flip is a `change` event. */
  #publish(answer: Answered, now: number, seq: number): void {
    const waited = answer.staleSince;
    const before = answer.publish(answer.combine(now), now, seq);
    answer.on('publish');
    if (waited !== undefined) this.refreshTime.record(Math.max(1, Math.round((performance.now() - waited) * 1000)));
    this.#schedule(answer, now);
    this.#flip(answer, before);
  }

  #flip(answer: Answered, before: boolean | undefined): void {
    if (before === undefined || before === answer.auth) return;
    this.counters.changes++;
    // Whoever was told of the flip must hear of the flip back: keep following it.
    answer.interest.followed = true;
    this.#onChange(answer, before);
  }

  /** A `true` it served rested on findings whose expiry has come: not served until a run publishes. */
  #expire(answer: Answered, now: number): void {
    clearTimeout(answer.timer);
    answer.timer = undefined;
    answer.on('expire');
    if (!answer.run) this.#refresh(answer, now);
    else this.#schedule(answer, now);
  }

  /** With `answerWithinMs`, checks waiting for a run get `false` (undecided) when it passes; the run goes on. */
  #armDeadline(answer: Answered): void {
    const within = this.#options.answerWithinMs;
    if (within === undefined || answer.timer !== undefined) return;
    answer.timer = setTimeout(() => {
      answer.timer = undefined;
      if (!WAITING.has(answer.state) || this.#closed) return;
      this.counters.undecided++;
      const before = answer.publish(false, 0, -1);
      answer.on('deadline');
      this.#options.logger.debug({ provider: answer.id, answerWithinMs: within }, 'answered undecided');
      this.#flip(answer, before);
    }, within).unref();
  }

  /** Sets the timer of the state's next timed event: a due time or an expiry, a hold's retry, a stale answer's drop. */
  #schedule(answer: Answered, now: number): void {
    clearTimeout(answer.timer);
    answer.timer = undefined;
    const state = answer.state;
    if (state === 'retired' || WAITING.has(state) || this.#closed) return;
    const expiry = answer.auth ? answer.trueUntil : Infinity;
    let at = expiry;
    if (state === 'fresh') at = Math.min(at, answer.nextDueAt(now, this.#options.negativeTtlMs));
    else if (state === 'held' || state === 'stale') at = Math.min(at, answer.stateEndsAt);
    if (at === Infinity) return;
    const wait = Math.min(Math.max(0, at - now), 2 ** 31 - 1);
    answer.timer = setTimeout(() => this.#timeUp(answer), wait).unref();
  }

  /** The state's timed event came. */
  #timeUp(answer: Answered): void {
    answer.timer = undefined;
    const now = Date.now();
    const state = answer.state;
    if (state === 'retired' || this.#closed) return;
    if (answer.auth && answer.trueUntil <= now) {
      // Nobody uses a stale answer: past its expiry it is dropped, not probed.
      return state === 'stale' ? this.#evict(answer) : this.#expire(answer, now);
    }
    if (state === 'held') return this.#refresh(answer, now);
    if (state === 'stale') return answer.stateEndsAt <= now ? this.#evict(answer) : this.#schedule(answer, now);
    if (state !== 'fresh') return;
    // Timers keep a monotonic clock and may fire a millisecond before the wall clock reaches the due time.
    if (answer.nextDueAt(now, 0) > now) return this.#schedule(answer, now);
    if (answer.interest.used || answer.interest.followed) {
      answer.interest.used = false;
      return this.#refresh(answer, now);
    }
    answer.on('idle');
    // A remembered failure outlives the stale window, up to the longest backoff: a gateway that lists models every
    // few minutes must not wait for the same hung CLI each time, and the backoff must get the chance to grow.
    answer.stateEndsAt = now + (answer.failing ? Math.max(this.#options.staleMs, this.#life.backoff.maxMs) : this.#options.staleMs);
    this.#schedule(answer, now);
  }

  #evict(answer: Answered): void {
    if (answer.state === 'retired') return;
    answer.on('evict');
    if (answer.home.answers.get(answer.key) === answer) answer.home.answers.delete(answer.key);
    this.#all.delete(answer);
    for (const cell of answer.cells) this.#watcher.untrack(cell);
    this.scopes.release(answer.home);
    this.counters.evictions++;
  }
}
