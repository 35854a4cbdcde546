/**
 * One kept answer: whether a provider (and, for providers with module
 * probes, a modelApi) has auth in one scope. It is made of one cell per probe
 * of the provider's plan (`cell.ts`), and its value is their combination:
 * true when any probe found auth. Its life is the state machine of
 * `lifecycle.ts`; this class holds the state, what is derived from it, and
 * who waits for what.
 *
 * Answers are mutated in place, so every checker's memo of an answer stays
 * valid across refreshes; the hit path reads `servedAsIs` and `trueUntil`
 * and returns `promise`, an already-resolved promise.
 */
import type { ProbeKind } from '../config/schema.js';
import type { ResolvedScope } from '../config/scope.js';
import { Cell } from './cell.js';
import { nextState, SERVED, SERVED_AS_IS, type AnswerEvent, type AnswerState, type Interest } from './lifecycle.js';

const TRUE = Promise.resolve(true);
const FALSE = Promise.resolve(false);

/** Where an answer is kept: its scope's resolved form, and the scope's answers by key. */
export interface AnswerHome {
  readonly scope: ResolvedScope;
  readonly answers: Map<string, Answer>;
}

/** A run under way: the plan positions it probes, all of them when undefined (each cell notes its `gen` when it starts: `runGen`). */
export interface RunRecord {
  readonly only: readonly number[] | undefined;
  /** Runs of this answer started before it, this one included: what a warm waiting for a newer run compares. */
  readonly seq: number;
}

/** Who waits for an answer to be decided (a check's miss): told once, with the answer and its value, without a promise of its own. */
export interface DecidedWaiter {
  decided(answer: Answer, auth: boolean): void;
  reject(err: unknown): void;
}

/** What waits for a run to publish (a `warm()`): told of each answer it waits for, without a promise each. */
export interface RunWaiter {
  published(answer: Answer, auth: boolean): void;
  failed(err: unknown): void;
}

interface WarmWaiter {
  /** The first run whose publication answers this warm. */
  readonly fromSeq: number;
  readonly waiter: RunWaiter;
}

export class Answer implements Interest {
  readonly cells: readonly Cell<Answer>[];
  #state: AnswerState = 'probing';
  /** The published value, and the same as an already-resolved promise; kept in `expired` to compare the next with. */
  auth = false;
  promise: Promise<boolean> = FALSE;
  /** Whether anything was ever published: a flip is a change from a published value. */
  published = false;
  /** Derived from the state on each transition, for the hit path: served as is. */
  servedAsIs = false;
  /** Derived from the state: served (a `stale` one starts a run). */
  served = false;
  /** A published `true` that rests only on findings with an expiry is served as is until then, in epoch ms; Infinity otherwise (a `false` included). */
  trueUntil = Infinity;
  /** Why a due time refreshes it (see `Interest`): fields of its own, not an object per answer. */
  used = false;
  followed = false;
  /** The run under way, if any (an answer dropped meanwhile still has one until it ends). */
  run: RunRecord | undefined;
  /** Runs started so far. */
  runs = 0;
  /** When a `held` answer's retry is due, or a `stale` one is dropped, in epoch ms. */
  stateEndsAt = 0;
  /** The id of the state's next timed event on the pool's timers (`timers.ts`), 0 when none (see `AnswerRuns.schedule`). */
  timer = 0;
  /** When the change that made a run due happened (monotonic ms): how stale the refresh let the answer be. */
  staleSince: number | undefined;
  /**
   * The spellings (and modelApis) its scope's memo knows it by: one spelling with no modelApi as that string, more
   * flat (a spelling, then its modelApi, and so on). Dropped from the memo with it (see `memo.ts`); none yet when
   * undefined.
   */
  spellings: string | (string | undefined)[] | undefined;
  // Made when first needed: most answers never have a check wait or a warm, and ten thousand empty arrays are kept too.
  #decided: DecidedWaiter[] | undefined;
  #warms: WarmWaiter[] | undefined;

  constructor(
    readonly home: AnswerHome,
    readonly key: string,
    readonly id: string,
    readonly modelApi: string | undefined,
    kinds: readonly ProbeKind[],
  ) {
    this.cells = kinds.map((kind, position) => new Cell(this, position, kind));
  }

  get state(): AnswerState {
    return this.#state;
  }

  /** Moves to the state `event` leads to (see `TRANSITIONS`); throws on a transition the table does not have. */
  on(event: AnswerEvent): AnswerState {
    const to = nextState(this.#state, event);
    this.#state = to;
    this.served = SERVED.has(to);
    this.servedAsIs = SERVED_AS_IS.has(to);
    // Its timed event, if any, is dead: the pool's timers skip it, and drop it at their next compaction.
    if (to === 'retired') this.timer = 0;
    return to;
  }

  /** Any probe found auth, counting a failing probe's last good outcome, at `now` (epoch ms). */
  combine(now: number): boolean {
    for (const cell of this.cells) if (cell.effective(now) === 'present') return true;
    return false;
  }

  /** Served from a failing probe's last good outcome. */
  get degraded(): boolean {
    return this.cells.some((c) => c.state === 'failed' && c.good !== undefined && (!this.auth || c.good === 'present'));
  }

  /** False because a probe failed with nothing earlier to fall back on: remembered, and retried with backoff. */
  get failing(): boolean {
    return !this.auth && this.cells.some((c) => c.state === 'failed' && c.good === undefined);
  }

  /** Whether a cell decides the answer at `now`: those that found auth when it is true, all of them when it is false. */
  decides(cell: Cell<Answer>, now: number): boolean {
    return this.#decides(cell, this.combine(now), now);
  }

  #decides(cell: Cell<Answer>, auth: boolean, now: number): boolean {
    return !auth || cell.effective(now) === 'present';
  }

  /** Positions of the deciding cells that are due at `now`. */
  due(now: number): number[] {
    const auth = this.combine(now);
    const out: number[] = [];
    for (const cell of this.cells) if (cell.dueAt <= now && this.#decides(cell, auth, now)) out.push(cell.position);
    return out;
  }

  /** The earliest due time of a deciding cell, in epoch ms; `fallbackMs` from now for an answer with no probes. */
  nextDueAt(now: number, fallbackMs: number): number {
    const auth = this.combine(now);
    let at = Infinity;
    for (const cell of this.cells) if (this.#decides(cell, auth, now) && cell.dueAt < at) at = cell.dueAt;
    return at === Infinity ? now + fallbackMs : at;
  }

  /** When the combined `true` ends by the clock alone: the latest expiry among the findings, Infinity if one has none. */
  #trueUntil(now: number): number {
    let until = -Infinity;
    for (const cell of this.cells) if (cell.effective(now) === 'present') until = Math.max(until, cell.validUntil ?? Infinity);
    return until === -Infinity ? Infinity : until;
  }

  /** Tells `waiter` the answer once one is served: at once, if it is. */
  onDecided(waiter: DecidedWaiter): void {
    if (this.served) waiter.decided(this, this.auth);
    // Most answers have one waiter at a time: an array made by its first push holds 17 slots, kept until it is served.
    else if (this.#decided) this.#decided.push(waiter);
    else this.#decided = [waiter];
  }

  /** Tells `waiter` when a run numbered `fromSeq` or later publishes: what `warm()` waits for. */
  whenRunPublished(fromSeq: number, waiter: RunWaiter): void {
    if (this.#warms) this.#warms.push({ fromSeq, waiter });
    else this.#warms = [{ fromSeq, waiter }];
  }

  /** Warms still waiting for a run that has not started: the book starts one when the current one ends. */
  get wantsRun(): boolean {
    return this.#warms?.some((w) => w.fromSeq > this.runs) ?? false;
  }

  /**
   * Records `auth` as the value served from now on (the state moves separately); returns the value it replaced,
   * undefined when there was none. Resolves the checks waiting, and the warms whose run this was.
   */
  publish(auth: boolean, now: number, ofRun: number): boolean | undefined {
    const before = this.published ? this.auth : undefined;
    this.auth = auth;
    this.published = true;
    this.promise = auth ? TRUE : FALSE;
    this.trueUntil = auth ? this.#trueUntil(now) : Infinity;
    this.staleSince = undefined;
    const decided = this.#decided;
    this.#decided = undefined;
    if (decided) for (const w of decided) w.decided(this, auth);
    const warms = this.#warms;
    if (warms) {
      const waiting = warms.filter((w) => w.fromSeq > ofRun);
      this.#warms = waiting.length > 0 ? waiting : undefined;
      for (const w of warms) if (w.fromSeq <= ofRun) w.waiter.published(this, auth);
    }
    return before;
  }

  /** Publishes `false` to the waiting checks only (undecided): warms go on waiting for the real answer. */
  publishUndecided(): boolean | undefined {
    return this.publish(false, 0, -1);
  }

  /** Ends every wait: with `auth` (an answer not kept), or with `err`. */
  release(auth: boolean | undefined, err?: unknown): void {
    const decided = this.#decided ?? [];
    const warms = this.#warms ?? [];
    this.#decided = this.#warms = undefined;
    for (const w of decided) {
      if (auth === undefined) w.reject(err);
      else w.decided(this, auth);
    }
    for (const { waiter } of warms) {
      if (auth === undefined) waiter.failed(err);
      else waiter.published(this, auth);
    }
  }
}
