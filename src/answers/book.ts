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
import type { ResolvedOptions } from '../config/options.js';
import type { ProbeKind } from '../config/schema.js';
import { AuthProbeError } from '../errors.js';
import type { KeptAnswer } from '../explain.js';
import { Answer, type AnswerHome, type DecidedWaiter, type RunWaiter } from './answer.js';
import type { RunBatcher } from './batcher.js';
import type { Cell } from './cell.js';
import { ANSWER_STATES, type AnswerState, WAITING } from './lifecycle.js';
import { type Answered, AnswerRuns } from './runs.js';
import { ScopeRegistry, type ScopeState } from './scopes.js';
import type { DependencyWatcher, FileChange } from './watcher.js';
import type { Slices } from '../slices.js';

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

/** What a check or a `warm()` asks: a provider's id, its answer's key in the scope, the modelApi it is kept by, and its plan's kinds. */
export interface Question {
  readonly id: string;
  readonly key: string;
  readonly modelApi: string | undefined;
  readonly kinds: readonly ProbeKind[];
}

/** The pool's parts the book works with: where runs go, the watcher, and the pool's slices of the loop. */
export interface BookParts {
  readonly batcher: RunBatcher;
  readonly watcher: DependencyWatcher<Cell<Answer>>;
  readonly slices: Slices;
}

// Part of the public `explain()` report: declared with it, so the package's declarations never reach this module's.
export type { KeptAnswer };

/**
 * Runs a `warm()` has under way at most: its targets are taken in as its answers publish, half a window at a time, not
 * all at once. Ten thousand targets taken in at once made ten thousand answers and runs within the warm's first third,
 * all alive in the young generation when it was next collected: that collection, which copies them, was the warm's
 * longest stall of the loop (see the README's scale benchmark). It also kept a check made meanwhile behind every task
 * of the warm; now it waits behind a window's at most. A window is four times a thread's tasks in flight
 * (`TASKS_PER_WORKER` tasks of `batchSize`: 256 at the defaults), so the threads are kept busy while the answers of
 * the last tasks are taken in and the next half is sent.
 */
export const WARM_WINDOW = 1024;

/**
 * One `warm()`: its targets taken in a window at a time (see {@link WARM_WINDOW}), a slice of the loop at a time, and
 * what each of its answers published; one object, not a promise per answer.
 */
class Warm implements RunWaiter {
  /** Its answers, in the order of its targets, as they are taken in. */
  readonly answers: Answer[] = [];
  readonly #auth = new Map<Answer, boolean>();
  readonly #questions: readonly Question[];
  readonly #admit: (question: Question, warm: Warm) => void;
  readonly #slices: Slices;
  readonly #onAnswer: () => void;
  /** Targets taken in, or being taken in, so far. */
  #next = 0;
  /** A window's targets are being taken in (one at a time, so that they keep their order). */
  #admitting = false;
  #ended = false;
  #resolve!: (settled: { answer: Answer; auth: boolean }[]) => void;
  #reject!: (err: unknown) => void;
  readonly all = new Promise<{ answer: Answer; auth: boolean }[]>((resolve, reject) => {
    this.#resolve = resolve;
    this.#reject = reject;
  });

  /** `admit` takes in one target: finds or makes its answer, adds it to `answers` and has it tell this warm when it publishes. */
  constructor(questions: readonly Question[], admit: (question: Question, warm: Warm) => void, slices: Slices, onAnswer: () => void) {
    this.#questions = questions;
    this.#admit = admit;
    this.#slices = slices;
    this.#onAnswer = onAnswer;
    if (questions.length === 0) this.#end();
    else this.#pump();
  }

  published(answer: Answer, auth: boolean): void {
    if (this.#ended || this.#auth.has(answer)) return;
    this.#auth.set(answer, auth);
    this.#onAnswer();
    if (this.#auth.size === this.#questions.length) this.#end();
    else this.#pump();
  }

  failed(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#reject(err);
  }

  /** Takes in the next targets, up to a full window, once half of it has published (and none are being taken in). */
  #pump(): void {
    if (this.#ended || this.#admitting || this.#next === this.#questions.length) return;
    // Taken in and not published yet: with none being taken in, every target up to `#next` has its answer in `answers`.
    const open = this.answers.length - this.#auth.size;
    if (open > WARM_WINDOW / 2) return;
    const from = this.#next;
    this.#next = Math.min(this.#questions.length, from + WARM_WINDOW - open);
    this.#admitting = true;
    this.#slices
      .forEach(this.#questions.slice(from, this.#next), (question) => {
        if (!this.#ended) this.#admit(question, this);
      })
      .then(
        () => {
          this.#admitting = false;
          this.#pump();
        },
        (err: unknown) => this.failed(err),
      );
  }

  #end(): void {
    this.#ended = true;
    this.#resolve(this.answers.map((a) => ({ answer: a, auth: this.#auth.get(a) as boolean })));
  }
}

export class AnswerBook {
  readonly counters: BookCounters = { refreshes: 0, changes: 0, evictions: 0, coalesced: 0, undecided: 0 };
  /** How long served answers waited for their refresh to publish, in µs: a change's staleness. */
  readonly refreshTime = createHistogram();
  readonly scopes: ScopeRegistry;
  readonly #options: ResolvedOptions;
  readonly #watcher: DependencyWatcher<Cell<Answer>>;
  readonly #runs: AnswerRuns;
  readonly #slices: Slices;
  /** Every kept answer, least recently used (roughly: a clock sweep) first. */
  readonly #all = new Set<Answered>();

  constructor(options: ResolvedOptions, { batcher, watcher, slices }: BookParts, onChange: (answer: Answer, previous: boolean) => void) {
    this.#options = options;
    this.#watcher = watcher;
    this.#slices = slices;
    const evict = (answer: Answered) => this.#evict(answer);
    this.#runs = new AnswerRuns({ options, batcher, watcher, slices, counters: this.counters, refreshTime: this.refreshTime, onChange, evict });
    this.scopes = new ScopeRegistry(options.maxScopes, (state) => {
      for (const answer of [...state.answers.values()]) this.#evict(answer as Answered);
    });
  }

  get size(): number {
    return this.#all.size;
  }

  /** Distinct answers with a run under way: bounded by `maxQueue` for new ones. */
  get answersInFlight(): number {
    return this.#runs.running;
  }

  /**
   * The miss path: the scope's kept answer for the key (a stale one is served and refreshed in the background),
   * or a new one, probed and waited for. `waiter` is told the answer once it is decided (see `Miss` for a dropped
   * one). Throws `E_QUEUE_FULL` (at once: nothing was started).
   */
  lookup(home: ScopeState, question: Question, waiter: DecidedWaiter): void {
    const { key } = question;
    const now = Date.now();
    let answer = home.answers.get(key) as Answered | undefined;
    if (!answer) {
      if (this.#runs.running >= this.#options.maxQueue) {
        throw new AuthProbeError('E_QUEUE_FULL', `${this.#runs.running} distinct checks waiting, limit ${this.#options.maxQueue}`);
      }
      // The check that creates an answer is not a use: an id checked once (a typo) expires unused and leaves.
      answer = this.#add(home, question);
      this.#runs.refresh(answer, now);
    } else {
      if (!answer.served) this.counters.coalesced++;
      this.scopes.touch(home);
      this.#used(answer, now);
    }
    if (WAITING.has(answer.state)) this.#runs.armDeadline(answer);
    // No promise of its own: a burst of a thousand agents' misses costs each check one promise, its caller's.
    answer.onDecided(waiter);
  }

  /** A served answer was checked: it is in use; a stale one starts its run, and a `true` past its expiry is not served. */
  revalidate(answer: Answer): void {
    this.#used(answer as Answered, Date.now());
  }

  #used(answer: Answered, now: number): void {
    answer.used = true;
    if (answer.served && answer.trueUntil <= now) this.#runs.expire(answer, now);
    else if (answer.state === 'stale') this.#runs.refresh(answer, now);
  }

  /**
   * Probes the providers again (all but probes in a failure's backoff), publishes, and follows the answers from then
   * on. A run already under way is not discarded: the warm is answered by the next run to start. Resolves with each
   * answer once such a run has published it; `onAnswer` is called as each one is. The targets are taken in a window
   * at a time (see {@link WARM_WINDOW}): one taken in after `close()` rejects the warm with `E_POOL_CLOSED`.
   */
  warm(home: ScopeState, questions: readonly Question[], onAnswer: () => void): Promise<{ answer: Answer; auth: boolean }[]> {
    const warm = new Warm(
      questions,
      (question, waits) => {
        if (this.#runs.closed) throw new AuthProbeError('E_POOL_CLOSED');
        const answer = (home.answers.get(question.key) as Answered | undefined) ?? this.#add(home, question);
        answer.followed = true;
        waits.answers.push(answer);
        this.#warmOne(answer, Date.now(), waits);
      },
      this.#slices,
      onAnswer,
    );
    return warm.all;
  }

  /** Has `waits` told of the answer once a run that started after this warm publishes it. */
  #warmOne(answer: Answered, now: number, waits: RunWaiter): void {
    if (answer.state === 'retired') return waits.published(answer, answer.auth);
    // A run under way may have started before whatever the warm is for: the next one answers it (see AnswerRuns.finish).
    if (answer.run) return answer.whenRunPublished(answer.runs + 1, waits);
    this.#runs.force(answer, now);
    this.#runs.refresh(answer, now);
    if (answer.run) return answer.whenRunPublished(answer.runs, waits);
    if (answer.state === 'held') return answer.whenRunPublished(answer.runs + 1, waits);
    waits.published(answer, answer.auth);
  }

  /** Files some cells depend on changed: re-run those that decide their answer; forget the others. */
  filesChanged(changes: readonly FileChange<Cell<Answer>>[]): void {
    const touched = new Set<Answered>();
    // A verify pass over a thousand agents' files may report thousands: a slice of a turn at a time.
    const changed = this.#slices.forEach(changes, ({ item: cell, path, fingerprint }) => {
      const answer = cell.answer as Answered;
      if (answer.state === 'retired') return;
      // What was seen is now what the cell is compared with: the same file state never dirties it twice.
      cell.observe(path, fingerprint);
      if (answer.decides(cell, Date.now())) {
        cell.changed();
        this.#watcher.moved(cell);
        answer.staleSince ??= performance.now();
        touched.add(answer);
      } else {
        this.#watcher.untrack(cell);
        cell.reset();
      }
    });
    void changed.then(() =>
      this.#slices.forEach([...touched], (answer) => {
        // A run under way re-runs what changed when it ends (the change made its cells due).
        if (answer.run || answer.state === 'retired') return;
        if (this.#options.watch.refreshOnChange) this.#runs.refresh(answer, Date.now());
        else this.#evict(answer);
      }),
    );
  }

  /** Drops every answer. A run under way still answers the checks that were waiting for it, but keeps nothing. */
  invalidate(): void {
    for (const answer of [...this.#all]) this.#evict(answer);
    this.#runs.compactTimers();
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
    this.#runs.close();
    for (const answer of [...this.#all]) this.#evict(answer);
  }

  #add(home: ScopeState, { key, id, modelApi, kinds }: Question): Answered {
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
      if (answer.used || answer.run || !answer.served) {
        answer.used = false;
        this.#all.delete(answer);
        this.#all.add(answer);
        continue;
      }
      this.#evict(answer);
    }
  }

  /** Drops an answer from the book: `evict`, unless a refused first run retired it already. */
  #evict(answer: Answered): void {
    if (!this.#all.has(answer)) return;
    if (answer.state !== 'retired') answer.on('evict');
    if (answer.home.answers.get(answer.key) === answer) answer.home.answers.delete(answer.key);
    answer.home.memo.forget(answer);
    this.#all.delete(answer);
    for (const cell of answer.cells) this.#watcher.untrack(cell);
    this.scopes.release(answer.home);
    this.counters.evictions++;
  }
}
