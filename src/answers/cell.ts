/**
 * One probe's outcome within an answer, with its own dependencies and expiry:
 * what the file watcher follows, and what an answer combines (true when any
 * probe found auth).
 *
 * A cell that fails (timeout, crash, a half-written file) keeps its last good
 * outcome, and the answer goes on being served from it ("degraded") while the
 * probe is retried with backoff: a transient failure never replaces a good
 * answer. A failure that has lasted longer than `cacheTtlMs.positive` (the
 * longest a `true` goes unverified anyway) is believed: the good outcome is
 * forgotten, and the answer turns `false` once.
 */
import { sameFingerprint } from '../probes/fingerprint.js';
import type { ProbeKind, ProbeOutcome } from '../config/schema.js';
import { fingerprintIn, NO_DEPS, withFingerprint, type DepList } from './deps.js';

/** How long outcomes are kept, in milliseconds: the pool's resolved TTLs and backoff. */
export interface Lifetimes {
  readonly positiveTtlMs: number;
  readonly negativeTtlMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}

/** A probe's latest outcome: `unknown` until it runs (a check stops at the first probe that finds auth). */
export type CellState = 'unknown' | 'present' | 'absent' | 'failed';

export class Cell<Owner = unknown> {
  state: CellState = 'unknown';
  /** The last outcome that was not a failure: what a failing probe is taken to still say. */
  good: 'present' | 'absent' | undefined;
  /**
   * Paths the outcome depends on, with their fingerprints when read: the result's list, shared with every cell given
   * the same (see `deps.ts`), never changed in place. A failure with none keeps the earlier ones.
   */
  deps: DepList = NO_DEPS;
  /** When the outcome must be run again, in epoch ms; 0 when it is due now (never run, or its files changed). */
  dueAt = 0;
  /** When a `present` outcome stops being true by the clock (a token's expiry, less the skew), in epoch ms. */
  validUntil: number | undefined;
  /** Failures in a row: the backoff doubles with each. */
  failures = 0;
  /** When the failures in a row began, in epoch ms: a failure older than `positiveTtlMs` is believed. */
  failingSince: number | undefined;
  /** Bumped when the cell's inputs change: a run that started before must not decide it (but see `current`). */
  gen = 0;
  /** `gen` when its answer's latest run started: what that run's outcome is compared with (an answer has one run at a time). */
  runGen = -1;
  /** The dependency watcher's record of the cell (see `Dependent.watched`). */
  watched: unknown = undefined;

  constructor(
    /** The answer it belongs to: what a file change of this cell's dependencies re-runs. */
    readonly answer: Owner,
    readonly position: number,
    readonly kind: ProbeKind,
  ) {}

  /**
   * What the cell says: a failing probe says what it last said, if anything. A finding past its `validUntil`
   * says nothing (it must be judged again), whether it is the latest outcome or a failure's fallback.
   */
  effective(now: number): CellState {
    const said = this.state === 'failed' ? (this.good ?? 'failed') : this.state;
    return said === 'present' && this.expired(now) ? 'unknown' : said;
  }

  /** Its finding rested on an expiry that has come. */
  expired(now: number): boolean {
    return this.validUntil !== undefined && this.validUntil <= now;
  }

  /** Takes a worker's outcome for this probe. */
  apply(outcome: ProbeOutcome, now: number, life: Lifetimes): void {
    if (outcome.outcome === 'error') {
      this.fail(now, life, outcome.deps);
      return;
    }
    // The constant, not the result's copy of the word: a cell keeps it as long as its answer.
    this.state = this.good = outcome.outcome === 'present' ? 'present' : 'absent';
    this.failures = 0;
    this.failingSince = undefined;
    this.deps = outcome.deps ?? NO_DEPS;
    this.validUntil = outcome.outcome === 'present' ? outcome.validUntil : undefined;
    // A finding that rests on an expiry is judged again at that moment, not at the end of its TTL.
    this.dueAt = Math.min(now + (outcome.outcome === 'present' ? life.positiveTtlMs : life.negativeTtlMs), this.validUntil ?? Infinity);
  }

  /**
   * The probe failed: remember it, keep the last good outcome unless the failures have lasted longer than
   * `positiveTtlMs`, and retry after a backoff that doubles each time.
   */
  fail(now: number, life: Lifetimes, deps?: ProbeOutcome['deps']): void {
    this.state = 'failed';
    this.failures++;
    this.failingSince ??= now;
    if (now - this.failingSince > life.positiveTtlMs) this.good = undefined;
    // A failure that read files (a half-written one) is followed through them; one that read nothing keeps what was followed.
    if (deps && deps.length > 0) this.deps = deps;
    this.dueAt = now + Math.min(life.backoff.initialMs * 2 ** Math.min(this.failures - 1, 30), life.backoff.maxMs);
  }

  /**
   * A file it read changed: due now, and the backoff is forgotten (the file a failure read may be whole now). How
   * long it has been failing is not: a file rewritten half-way on every request must not keep a failure young.
   */
  changed(): void {
    this.gen++;
    this.dueAt = 0;
    this.failures = 0;
  }

  /** Must run again though no file it read changed (`warm()` probes anew): due now. */
  force(): void {
    this.dueAt = 0;
  }

  /**
   * Whether a run started at `gen` may decide the cell: if nothing changed since, or if only files changed and the
   * run read them exactly as they were last seen. The second keeps a file rewritten faster than it can be re-read
   * (a gateway's own store, every request) from starving its readers of an answer.
   */
  current(outcome: ProbeOutcome, gen: number): boolean {
    if (this.gen === gen) return true;
    const read = outcome.deps;
    if (!read || read.length === 0 || read.length !== this.deps.length) return false;
    if (read === this.deps) return true;
    return read.every(([path, fingerprint]) => sameFingerprint(fingerprintIn(this.deps, path), fingerprint));
  }

  /** Records the fingerprint a file was seen with after a change. */
  observe(path: string, fingerprint: string): void {
    this.deps = withFingerprint(this.deps, path, fingerprint);
  }

  /** Forgets the outcome, as if never run: for a probe whose files changed while it does not decide the answer. */
  reset(): void {
    this.gen++;
    this.state = 'unknown';
    this.good = undefined;
    this.validUntil = undefined;
    this.deps = NO_DEPS;
    this.dueAt = 0;
    this.failures = 0;
    this.failingSince = undefined;
  }
}
