/**
 * The answer book: every kept answer of the pool, and the rules they follow.
 *
 * - A probe's outcome is kept per probe, with its own dependencies and
 *   expiry; a file change re-runs only the probes that read the file, and an
 *   expiry only the probes that decide the answer.
 * - A failure never replaces a known answer: the failing probe's last good
 *   outcome keeps serving (degraded) while it is retried with backoff. With
 *   nothing to fall back on, the answer is false and the failure is
 *   remembered for the backoff, so nobody waits for the same hung CLI twice.
 * - A refresh never makes a caller wait: the answer in hand is served until
 *   the new one is published. Only an answer's first run is waited for.
 * - A run that started before a change to its inputs (a file event,
 *   `invalidate()`) never decides an answer: it runs again.
 * - Used and followed answers are refreshed in the background when due; an
 *   unused one is served stale for a while, then dropped with its watches.
 *   Kept answers are capped (`maxAnswers`, least recently used first).
 */
import { createHistogram, performance } from 'node:perf_hooks';
import { AuthProbeError, errorData } from '../errors.js';
import type { KeptAnswer } from '../explain.js';
import type { ResolvedOptions } from '../config/options.js';
import type { ProbeKind, ProviderResult } from '../config/schema.js';
import type { DependencyWatcher, FileChange } from './watcher.js';
import { Answer, type Cell, type Lifetimes } from './answer.js';
import type { RunQueue } from './batcher.js';
import { ScopeRegistry, type ScopeState } from './scopes.js';

export interface BookCounters {
  /** Background runs of a served answer: expiry, a file change, a backoff ending. */
  refreshes: number;
  /** Published answers that flipped. */
  changes: number;
  /** Answers dropped: expired unused, pushed out by a cap, or `invalidate()`. */
  evictions: number;
  /** Misses that joined an answer's first run already under way. */
  coalesced: number;
  /** Answers published `false` as undecided, their first run still under way at `answerWithinMs`. */
  undecided: number;
}

// Part of the public `explain()` report: declared with it, so the package's declarations never reach this module's.
export type { KeptAnswer };

export class AnswerBook {
  readonly counters: BookCounters = { refreshes: 0, changes: 0, evictions: 0, coalesced: 0, undecided: 0 };
  /** How long served answers waited for their refresh to publish, in µs: a change's staleness. */
  readonly refreshTime = createHistogram();
  readonly scopes: ScopeRegistry;
  readonly #options: ResolvedOptions;
  readonly #life: Lifetimes;
  readonly #queue: RunQueue;
  readonly #watcher: DependencyWatcher<Cell>;
  readonly #onChange: (answer: Answer, previous: boolean) => void;
  /** Every kept answer, least recently used (roughly: a clock sweep) first. */
  readonly #all = new Set<Answer>();
  /** Answers with a run under way: bounded by `maxQueue` for new answers. */
  #running = 0;
  #closed = false;

  constructor(options: ResolvedOptions, queue: RunQueue, watcher: DependencyWatcher<Cell>, onChange: (answer: Answer, previous: boolean) => void) {
    this.#options = options;
    this.#life = { positiveTtlMs: options.positiveTtlMs, negativeTtlMs: options.negativeTtlMs, backoff: options.failureBackoff };
    this.#queue = queue;
    this.#watcher = watcher;
    this.#onChange = onChange;
    this.scopes = new ScopeRegistry(options.maxScopes, (state) => {
      for (const answer of [...state.answers.values()]) this.#evict(answer);
    });
  }

  get size(): number {
    return this.#all.size;
  }

  get inFlight(): number {
    return this.#running;
  }

  /**
   * The miss path: the scope's kept answer for the key (a stale one is served and refreshed in the background),
   * or a new one, probed and waited for. Returns the bare answer when it was dropped while being probed.
   */
  async lookup(state: ScopeState, key: string, id: string, modelApi: string | undefined, kinds: readonly ProbeKind[]): Promise<Answer | boolean> {
    let answer = state.answers.get(key);
    if (!answer) {
      if (this.#running >= this.#options.maxQueue) {
        throw new AuthProbeError('E_QUEUE_FULL', `${this.#running} distinct checks waiting, limit ${this.#options.maxQueue}`);
      }
      // The check that creates an answer is not a use: an id checked once (a typo) expires unused and leaves.
      answer = this.#add(state, key, id, modelApi, kinds);
      this.#refresh(answer);
      this.#bound(answer);
    } else {
      if (!answer.servable) this.counters.coalesced++;
      this.scopes.touch(state);
      answer.used = true;
    }
    if (answer.servable && !answer.fresh) this.#refresh(answer);
    const auth = await answer.whenDecided();
    return answer.retired ? auth : answer;
  }

  /**
   * With `answerWithinMs`, an answer whose first run has not ended by then is published `false` as undecided, so no
   * check waits longer: a probe that found auth would have answered already, since a run stops at the first. The run
   * goes on and publishes the real answer, with a `change` event if it is `true`.
   */
  #bound(answer: Answer): void {
    const within = this.#options.answerWithinMs;
    if (within === undefined || answer.servable || answer.retired) return;
    setTimeout(() => {
      if (answer.servable || answer.retired || this.#closed || !answer.running) return;
      this.counters.undecided++;
      answer.publish(false);
      answer.undecided = true;
      // Whoever was given this `false` must hear of a `true`: follow it, as a flip is.
      answer.followed = true;
      this.#options.logger.debug({ provider: answer.id, answerWithinMs: within }, 'answered undecided');
    }, within).unref();
  }

  /** A stale answer was served: refresh it in the background. */
  revalidate(answer: Answer): void {
    answer.used = true;
    this.#refresh(answer);
  }

  /**
   * Probes the providers again (all but probes in a failure's backoff), publishes, and follows the answers from
   * then on. Resolves with each answer once it is published with no run under way; `onAnswer` is called as each
   * one is.
   */
  async warm(state: ScopeState, entries: readonly { id: string; key: string; kinds: readonly ProbeKind[] }[], onAnswer: () => void): Promise<{ answer: Answer; auth: boolean }[]> {
    const now = Date.now();
    const answers = entries.map(({ id, key, kinds }) => state.answers.get(key) ?? this.#add(state, key, id, undefined, kinds));
    for (const answer of answers) {
      answer.followed = true;
      for (const cell of answer.cells) if (!(cell.state === 'failed' && cell.dueAt > now)) cell.force();
      this.#refresh(answer);
    }
    return Promise.all(
      answers.map(async (answer) => {
        const auth = await answer.whenSettled();
        onAnswer();
        return { answer, auth };
      }),
    );
  }

  /** Files some cells depend on changed: re-run those that decide their answer; forget the others. */
  filesChanged(changes: readonly FileChange<Cell>[]): void {
    const touched = new Set<Answer>();
    for (const { item: cell, path, fingerprint } of changes) {
      const answer = cell.answer;
      if (answer.retired) continue;
      // What was seen is now what the cell is compared with: the same file state never dirties it twice.
      cell.observe(path, fingerprint);
      if (answer.decides(cell)) {
        // A change ends a backoff at once: the file a failure read (half-written, unreadable) may be whole now.
        cell.changed();
        answer.staleSince ??= performance.now();
        touched.add(answer);
      } else {
        this.#watcher.untrack(cell);
        cell.reset();
      }
    }
    if (!this.#options.watch.refreshOnChange) {
      for (const answer of touched) if (!answer.running) this.#evict(answer);
      return;
    }
    for (const answer of touched) this.#refresh(answer);
  }

  /** Drops every answer. A run under way still answers the checks that were waiting for it, but keeps nothing. */
  invalidate(): void {
    for (const answer of [...this.#all]) this.#evict(answer);
  }

  kept(state: ScopeState, key: string): KeptAnswer | undefined {
    const answer = state.answers.get(key);
    if (!answer?.servable) return undefined;
    const now = Date.now();
    return { auth: answer.auth, degraded: answer.degraded, failing: answer.failing, undecided: answer.undecided, nextRunInMs: Math.max(0, answer.nextDueAt(now, this.#options.negativeTtlMs) - now) };
  }

  /** Answers served from a failing probe's last good outcome, and answers false because of a remembered failure. */
  health(): { degraded: number; failing: number } {
    let degraded = 0;
    let failing = 0;
    for (const answer of this.#all) {
      if (!answer.servable) continue;
      if (answer.degraded) degraded++;
      else if (answer.failing) failing++;
    }
    return { degraded, failing };
  }

  close(): void {
    this.#closed = true;
    for (const answer of [...this.#all]) this.#evict(answer);
  }

  #add(state: ScopeState, key: string, id: string, modelApi: string | undefined, kinds: readonly ProbeKind[]): Answer {
    const answer = new Answer(state, key, id, modelApi, kinds);
    state.answers.set(key, answer);
    this.scopes.touch(state);
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
      if (answer.used || answer.running || !answer.servable) {
        answer.used = false;
        this.#all.delete(answer);
        this.#all.add(answer);
        continue;
      }
      this.#evict(answer);
    }
  }

  /** Runs the answer's due probes, or publishes it when none is due. */
  #refresh(answer: Answer): void {
    if (answer.retired || answer.running || this.#closed) return;
    const now = Date.now();
    if (now < answer.holdUntil) return this.#schedule(answer, now);
    const due = answer.due(now);
    if (due.length === 0) return this.#publish(answer, now);
    if (answer.servable) {
      if (this.#running >= this.#options.maxQueue) return this.#hold(answer, now);
      this.counters.refreshes++;
      answer.staleSince ??= performance.now();
    }
    this.#run(answer, due);
  }

  #run(answer: Answer, positions: readonly number[]): void {
    answer.running = true;
    this.#running++;
    const gens = answer.cells.map((c) => c.gen);
    const forced = answer.cells.map((c) => c.forced);
    const only = positions.length === answer.cells.length ? undefined : positions;
    this.#queue.run(answer.modelApi, { id: answer.id, only, state: answer.scope }).then(
      (result) => this.#apply(answer, positions, gens, forced, result),
      (err: unknown) => this.#runFailed(answer, err),
    );
  }

  #apply(answer: Answer, positions: readonly number[], gens: readonly number[], forced: readonly number[], result: ProviderResult): void {
    answer.running = false;
    this.#running--;
    if (answer.retired) return answer.release(result.auth || answer.combine());
    const now = Date.now();
    const reported = new Set<number>();
    for (const outcome of result.probes) {
      const cell = answer.cells[outcome.position];
      reported.add(outcome.position);
      // A run that started before the cell's inputs changed does not decide it (the cell stays due), unless it read the files as last seen.
      if (!cell || !cell.current(outcome, gens[outcome.position] ?? -1, forced[outcome.position] ?? -1)) continue;
      const before = cell.deps;
      cell.apply(outcome, now, this.#life);
      this.#watcher.track(cell, before);
    }
    if (!result.auth) {
      // Every probe asked for should have been reported: one that was not (the whole task failed) failed.
      for (const position of positions) {
        const cell = answer.cells[position];
        if (!cell || reported.has(position) || cell.gen !== gens[position]) continue;
        cell.fail(now, this.#life, undefined, result.error ?? errorData('E_BAD_WORKER_RESULT', 'the worker did not report the probe'));
      }
    }
    if (this.#closed) return answer.release(answer.combine());
    // More to learn before publishing (the probe that found auth is gone; a file changed meanwhile): run that first.
    const due = answer.due(now);
    if (due.length > 0) return this.#run(answer, due);
    this.#publish(answer, now);
  }

  #runFailed(answer: Answer, err: unknown): void {
    answer.running = false;
    this.#running--;
    if (answer.retired || !answer.servable) {
      if (!answer.retired) this.#evict(answer);
      return answer.release(undefined, err);
    }
    // The answer in hand keeps serving; the run is tried again after a backoff.
    this.#options.logger.warn({ provider: answer.id, code: (err as AuthProbeError).code ?? 'unknown' }, 'background refresh could not be dispatched');
    answer.release(answer.auth);
    this.#hold(answer, Date.now());
  }

  #hold(answer: Answer, now: number): void {
    answer.holdUntil = now + this.#life.backoff.initialMs;
    this.#schedule(answer, now);
  }

  #publish(answer: Answer, now: number): void {
    const waited = answer.staleSince;
    const auth = answer.combine();
    const before = answer.publish(auth);
    if (waited !== undefined) this.refreshTime.record(Math.max(1, Math.round((performance.now() - waited) * 1000)));
    this.#schedule(answer, now);
    if (before !== undefined && before !== auth) {
      this.counters.changes++;
      // Whoever was told of the flip away must hear of the flip back: keep following it.
      answer.followed = true;
      this.#onChange(answer, before);
    }
  }

  #schedule(answer: Answer, now: number): void {
    clearTimeout(answer.timer);
    if (answer.retired || this.#closed) return;
    const wait = Math.min(Math.max(0, answer.nextDueAt(now, this.#options.negativeTtlMs) - now), 2 ** 31 - 1);
    answer.timer = setTimeout(() => this.#due(answer), wait).unref();
  }

  /**
   * An answer's deciding probe is due: refresh it if it is used or followed, or if a finding's expiry has come
   * (never served past it); otherwise serve it stale for a while, then drop it.
   */
  #due(answer: Answer): void {
    answer.timer = undefined;
    if (answer.retired || answer.running || this.#closed) return;
    const now = Date.now();
    // Timers keep a monotonic clock and may fire a millisecond before the wall clock reaches the due time.
    if (answer.nextDueAt(now, 0) > now) return this.#schedule(answer, now);
    if (answer.used || answer.followed || answer.cells.some((c) => c.expired(now))) {
      answer.used = false;
      return this.#refresh(answer);
    }
    answer.fresh = false;
    // A remembered failure outlives the stale window, up to the longest backoff: a gateway that lists models every
    // few minutes must not wait for the same hung CLI each time, and the backoff must get the chance to grow.
    const keepMs = answer.failing ? Math.max(this.#options.staleMs, this.#life.backoff.maxMs) : this.#options.staleMs;
    answer.timer = setTimeout(() => {
      if (!answer.running && !answer.fresh) this.#evict(answer);
    }, keepMs).unref();
  }

  #evict(answer: Answer): void {
    if (answer.retired) return;
    answer.retire();
    if (answer.scope.answers.get(answer.key) === answer) answer.scope.answers.delete(answer.key);
    this.#all.delete(answer);
    for (const cell of answer.cells) this.#watcher.untrack(cell);
    this.scopes.release(answer.scope);
    this.counters.evictions++;
  }
}
