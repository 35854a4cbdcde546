/**
 * The life of a kept answer, as a state machine: its states, the events that
 * move it, and every allowed transition, in one table. The book
 * (`book.ts`) decides which event happened and does the work; an answer
 * (`answer.ts`) changes state only through {@link nextState}, so a
 * transition missing from the table is a bug that throws where it happens,
 * never a silent mix of flags.
 *
 * What is not a state is data on the answer: whether it was used since its
 * due time or is followed (see `Interest`), which run is under way, and the
 * warms waiting for a run. A check, a `warm()` or a file change of an answer
 * whose run is under way changes no state: the run's result decides, and a
 * run that started too early for them is followed by another.
 */

/**
 * - `probing`: no answer yet; its first run is under way. Checks wait for it (at most `answerWithinMs`).
 * - `expired`: a finding its `true` rested on reached its expiry: nothing is served until a run publishes,
 *   so past its expiry an answer is never `true`. Checks wait as in `probing`.
 * - `undecided`: published `false` because `answerWithinMs` passed in `probing` or `expired`; the run goes on.
 * - `fresh`: published, within its lifetime, no run under way: served as is.
 * - `refreshing`: published and served as is while a background run is under way.
 * - `held`: published and served as is; a run is due but could not be dispatched (`maxQueue` reached, dispatch
 *   refused): tried again after `failureBackoff.initialMs`.
 * - `stale`: its due time came while nobody used or followed it: served, and the next check starts its run;
 *   dropped at the end of `staleMs`.
 * - `retired`: dropped. Serves nothing; a run still under way answers only the checks already waiting.
 */
export const ANSWER_STATES = ['probing', 'expired', 'undecided', 'fresh', 'refreshing', 'held', 'stale', 'retired'] as const;
export type AnswerState = (typeof ANSWER_STATES)[number];

/**
 * - `refresh`: a run starts for a published answer: its due time came while in use, a check of a stale one, a
 *   `warm()`, a file it read changed, a hold ended.
 * - `publish`: a run ended with no probe still due: its answer is published (and a flip is a `change` event).
 * - `deadline`: `answerWithinMs` passed with checks waiting and nothing to serve: `false` is published as undecided.
 * - `idle`: its due time came and nobody used or followed it since.
 * - `expire`: a finding its `true` rests on reached its expiry (a token's `expiry`, less the skew).
 * - `blocked`: a run could not be dispatched. An answer with a value keeps it (never `true` past an expiry) and
 *   is tried again later; one without (its first run refused: a closed pool) is dropped and its checks reject.
 * - `evict`: dropped: `maxAnswers`/`maxScopes`, `invalidate()`, `close()`, the end of `staleMs`, or a file change
 *   with `watch.refreshOnChange: false`.
 */
export const ANSWER_EVENTS = ['refresh', 'publish', 'deadline', 'idle', 'expire', 'blocked', 'evict'] as const;
export type AnswerEvent = (typeof ANSWER_EVENTS)[number];

/** Every allowed transition: state → event → next state. Anything else throws. */
export const TRANSITIONS: { readonly [S in AnswerState]: { readonly [E in AnswerEvent]?: AnswerState } } = {
  probing: { publish: 'fresh', deadline: 'undecided', blocked: 'retired', evict: 'retired' },
  expired: { publish: 'fresh', deadline: 'undecided', blocked: 'held', evict: 'retired' },
  undecided: { publish: 'fresh', blocked: 'held', evict: 'retired' },
  fresh: { refresh: 'refreshing', idle: 'stale', expire: 'expired', blocked: 'held', evict: 'retired' },
  refreshing: { publish: 'fresh', expire: 'expired', blocked: 'held', evict: 'retired' },
  held: { refresh: 'refreshing', expire: 'expired', blocked: 'held', evict: 'retired' },
  stale: { refresh: 'refreshing', expire: 'expired', blocked: 'held', evict: 'retired' },
  retired: {},
};

/** Thrown for a transition the table does not allow: a bug in the book, named so a report points at it. */
export class IllegalTransition extends Error {
  constructor(
    readonly from: AnswerState,
    readonly event: AnswerEvent,
  ) {
    super(`answer lifecycle: no transition from ${from} on ${event}`);
    this.name = 'IllegalTransition';
  }
}

/** The state `event` moves an answer in state `from` to. */
export function nextState(from: AnswerState, event: AnswerEvent): AnswerState {
  const to = TRANSITIONS[from][event];
  if (to === undefined) throw new IllegalTransition(from, event);
  return to;
}

/** States whose published answer is served. */
export const SERVED: ReadonlySet<AnswerState> = new Set(['undecided', 'fresh', 'refreshing', 'held', 'stale']);

/** States served as they are, by the checker's hit path; a `stale` answer's check also starts its run. */
export const SERVED_AS_IS: ReadonlySet<AnswerState> = new Set(['undecided', 'fresh', 'refreshing', 'held']);

/** States with nothing to serve: checks wait for the run (see `answerWithinMs`). */
export const WAITING: ReadonlySet<AnswerState> = new Set(['probing', 'expired']);

/**
 * Why an answer is refreshed when its due time comes, besides a finding's expiry:
 * - `used`: a check was served it since its last due time (cleared then);
 * - `followed`: `warm()` asked for it, or a `change` event reported it: whoever heard must hear of the next flip.
 *   Kept until the answer is dropped. An undecided `false` is followed only if its run finds `true`.
 */
export interface Interest {
  used: boolean;
  followed: boolean;
}
