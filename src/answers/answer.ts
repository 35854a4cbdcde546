/**
 * One kept answer: whether a provider (and, for providers with module
 * probes, a modelApi) has auth in one scope. It is made of one cell per probe
 * of the provider's plan, each with its own outcome, dependencies and expiry,
 * and the answer is their combination: true when any probe found auth.
 *
 * A cell that fails (timeout, crash, a half-written file) keeps its last
 * good outcome: the answer goes on being served from it ("degraded") while
 * the probe is retried with backoff. Only a lasting absence turns a cell's
 * outcome false. Answers are mutated in place, so every checker's memo of an
 * answer stays valid across refreshes; the hit path reads `fresh` and returns
 * `promise`, an already-resolved promise.
 */
import type { ErrorData } from '../errors.js';
import type { ProbeKind, ProbeOutcome } from '../config/schema.js';
import type { ScopeState } from './scopes.js';

const TRUE = Promise.resolve(true);
const FALSE = Promise.resolve(false);

const NO_DEPS: ReadonlyMap<string, string> = new Map();

/** How long outcomes are kept, in milliseconds: the pool's resolved TTLs and backoff. */
export interface Lifetimes {
  readonly positiveTtlMs: number;
  readonly negativeTtlMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}

/** A probe's latest outcome: `unknown` until it runs (a check stops at the first probe that finds auth). */
export type CellState = 'unknown' | 'present' | 'absent' | 'failed';

/** One probe's outcome within an answer; also what the file watcher follows (its `deps`). */
export class Cell {
  state: CellState = 'unknown';
  /** The last outcome that was not a failure: what a failing probe is taken to still say. */
  good: 'present' | 'absent' | undefined;
  /** Paths the outcome depends on, with their fingerprints when read. A failure with none keeps the earlier ones. */
  deps: ReadonlyMap<string, string> = NO_DEPS;
  /** When the outcome must be run again, in epoch ms; 0 when it is due now (never run, or its files changed). */
  dueAt = 0;
  /** When a `present` outcome stops being true by the clock (a token's expiry, less the skew), in epoch ms. */
  validUntil: number | undefined;
  /** Failures in a row: the backoff doubles with each. */
  failures = 0;
  /** Bumped when the cell's inputs change: a run that started before must not decide it (but see `current`). */
  gen = 0;
  /** Bumped when the cell must run again for a reason no file records (`warm()`, a reset). */
  forced = 0;
  error: ErrorData | undefined;

  constructor(
    readonly answer: Answer,
    readonly position: number,
    readonly kind: ProbeKind,
  ) {}

  /**
   * What the cell says: a failing probe says what it last said, if anything. A finding past its `validUntil`
   * says nothing (it must be judged again), whether it is the latest outcome or a failure's fallback.
   */
  get effective(): CellState {
    const said = this.state === 'failed' ? (this.good ?? 'failed') : this.state;
    return said === 'present' && this.expired(Date.now()) ? 'unknown' : said;
  }

  /** Its finding rested on an expiry that has come. */
  expired(now: number): boolean {
    return this.validUntil !== undefined && this.validUntil <= now;
  }

  /** Takes a worker's outcome for this probe. */
  apply(outcome: ProbeOutcome, now: number, life: Lifetimes): void {
    this.error = outcome.error;
    if (outcome.outcome === 'error') {
      this.fail(now, life, outcome.deps);
      return;
    }
    this.state = this.good = outcome.outcome;
    this.failures = 0;
    this.deps = outcome.deps ? new Map(outcome.deps) : NO_DEPS;
    this.validUntil = outcome.outcome === 'present' ? outcome.validUntil : undefined;
    // A finding that rests on an expiry is judged again at that moment, not at the end of its TTL.
    this.dueAt = Math.min(now + (outcome.outcome === 'present' ? life.positiveTtlMs : life.negativeTtlMs), this.validUntil ?? Infinity);
  }

  /** The probe failed: remember it, keep the last good outcome, and retry after a backoff that doubles each time. */
  fail(now: number, life: Lifetimes, deps?: ProbeOutcome['deps'], error?: ErrorData): void {
    if (error) this.error = error;
    this.state = 'failed';
    this.failures++;
    // A failure that read files (a half-written one) is followed through them; one that read nothing keeps what was followed.
    if (deps && deps.length > 0) this.deps = new Map(deps);
    this.dueAt = now + Math.min(life.backoff.initialMs * 2 ** Math.min(this.failures - 1, 30), life.backoff.maxMs);
  }

  /** A file it read changed: due now, and earlier failures are forgotten (the file a failure read may be whole now). */
  changed(): void {
    this.gen++;
    this.dueAt = 0;
    this.failures = 0;
  }

  /** Must run again though no file it read changed (`warm()` probes anew): due now. */
  force(): void {
    this.gen++;
    this.forced++;
    this.dueAt = 0;
  }

  /**
   * Whether a run started at (`gen`, `forced`) may decide the cell: if nothing changed since, or if only files
   * changed and the run read them exactly as they were last seen. The second keeps a file rewritten faster than
   * it can be re-read (a gateway's own store, every request) from starving its readers of an answer.
   */
  current(outcome: ProbeOutcome, gen: number, forced: number): boolean {
    if (this.gen === gen) return true;
    if (this.forced !== forced || !outcome.deps || outcome.deps.length === 0 || outcome.deps.length !== this.deps.size) return false;
    return outcome.deps.every(([path, fingerprint]) => this.deps.get(path) === fingerprint);
  }

  /** Records the fingerprint a file was seen with after a change. */
  observe(path: string, fingerprint: string): void {
    if (!this.deps.has(path)) return;
    this.deps = new Map(this.deps).set(path, fingerprint);
  }

  /** Forgets the outcome, as if never run: for a probe whose files changed while it does not decide the answer. */
  reset(): void {
    this.gen++;
    this.forced++;
    this.state = 'unknown';
    this.good = undefined;
    this.validUntil = undefined;
    this.deps = NO_DEPS;
    this.dueAt = 0;
    this.failures = 0;
    this.error = undefined;
  }
}

interface Waiter {
  resolve(auth: boolean): void;
  reject(err: unknown): void;
}

export class Answer {
  readonly cells: readonly Cell[];
  /** The published answer, and the same as an already-resolved promise. */
  auth = false;
  promise: Promise<boolean> = FALSE;
  /** Published and within its lifetime: served as is, by the hit path. */
  fresh = false;
  /** Published and not dropped: served (a stale one starts a background refresh). */
  servable = false;
  /** Served since its last due time (set by every hit): a used answer is refreshed in the background, an unused one left to expire. */
  used = false;
  /** Published by `warm()` or reported in a `change` event: refreshed in the background and watched until dropped by a cap or `invalidate()`. */
  followed = false;
  /** Dropped (expired unused, a cap, `invalidate()`): no longer served or kept, and results for it are not kept. */
  retired = false;
  /** A run of some of its probes is under way. */
  running = false;
  /**
   * Published `false` before its first run ended, at `answerWithinMs`: the run goes on, and publishes the real answer
   * (a `change` event if it is `true`).
   */
  undecided = false;
  /** No run is started before this epoch ms (after a dispatch could not be made). */
  holdUntil = 0;
  timer: NodeJS.Timeout | undefined;
  /** When the current run (or the last change that made one due) started, in ms of the monotonic clock: how stale a refresh let the answer be. */
  staleSince: number | undefined;
  #decided: Waiter[] = [];
  #settled: Waiter[] = [];

  constructor(
    readonly scope: ScopeState,
    readonly key: string,
    readonly id: string,
    readonly modelApi: string | undefined,
    kinds: readonly ProbeKind[],
  ) {
    this.cells = kinds.map((kind, position) => new Cell(this, position, kind));
  }

  /** Any probe found auth, counting a failing probe's last good outcome. */
  combine(): boolean {
    for (const cell of this.cells) if (cell.effective === 'present') return true;
    return false;
  }

  /** Served from a failing probe's last good outcome. */
  get degraded(): boolean {
    return this.cells.some((c) => c.state === 'failed' && c.good !== undefined && this.#decides(c, this.auth));
  }

  /** False because a probe failed with nothing earlier to fall back on: remembered, and retried in the background with backoff. */
  get failing(): boolean {
    return !this.auth && this.cells.some((c) => c.state === 'failed' && c.good === undefined);
  }

  /** The cells that decide an answer: those that found auth when it is true, all of them when it is false. */
  #decides(cell: Cell, auth: boolean): boolean {
    return !auth || cell.effective === 'present';
  }

  /** Positions of the deciding cells that are due at `now`. */
  due(now: number): number[] {
    const auth = this.combine();
    const out: number[] = [];
    for (const cell of this.cells) if (cell.dueAt <= now && this.#decides(cell, auth)) out.push(cell.position);
    return out;
  }

  /** Whether a cell decides the answer as it stands now. */
  decides(cell: Cell): boolean {
    return this.#decides(cell, this.combine());
  }

  /** The earliest due time of a deciding cell, in epoch ms; `fallbackMs` from now for an answer with no probes. */
  nextDueAt(now: number, fallbackMs: number): number {
    const auth = this.combine();
    let at = Infinity;
    for (const cell of this.cells) if (this.#decides(cell, auth) && cell.dueAt < at) at = cell.dueAt;
    if (at === Infinity) at = now + fallbackMs;
    return Math.max(at, this.holdUntil);
  }

  /** Resolves with the answer once one is published (at once if one is). */
  whenDecided(): Promise<boolean> {
    if (this.servable) return this.promise;
    return new Promise((resolve, reject) => this.#decided.push({ resolve, reject }));
  }

  /** Resolves once published with no run under way: what `warm()` waits for. */
  whenSettled(): Promise<boolean> {
    if (this.servable && !this.running) return this.promise;
    return new Promise((resolve, reject) => this.#settled.push({ resolve, reject }));
  }

  /** Publishes `auth`; returns the answer it replaced, or undefined when there was none. */
  publish(auth: boolean): boolean | undefined {
    const before = this.servable ? this.auth : undefined;
    this.auth = auth;
    this.promise = auth ? TRUE : FALSE;
    this.fresh = this.servable = true;
    this.undecided = false;
    this.staleSince = undefined;
    settle(this.#decided, auth);
    this.#decided = [];
    if (!this.running) {
      settle(this.#settled, auth);
      this.#settled = [];
    }
    return before;
  }

  /** Ends every wait: with `auth` (an answer not kept), or with `err`. */
  release(auth: boolean | undefined, err?: unknown): void {
    for (const w of [...this.#decided, ...this.#settled]) {
      if (auth === undefined) w.reject(err);
      else w.resolve(auth);
    }
    this.#decided = [];
    this.#settled = [];
  }

  /** Drops it: no longer served by any checker. */
  retire(): void {
    this.retired = true;
    this.fresh = this.servable = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function settle(waiters: readonly Waiter[], auth: boolean): void {
  for (const w of waiters) w.resolve(auth);
}
