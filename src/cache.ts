/**
 * Answers kept on the main thread. An answer is a record shared by every
 * checker of its scope; each checker keeps its own memo from the caller's raw
 * strings to records, so a cached check is a Map lookup, two field reads and
 * an already-resolved promise: nothing is allocated, logged or parsed, and no
 * clock is read, on a hit. A record changes only by expiring or by being
 * retired (a newer answer, a file change, `invalidate()`), which turns every
 * memo's hit into a miss.
 */
import type { ProviderResult } from './schema.js';

const TRUE = Promise.resolve(true);
const FALSE = Promise.resolve(false);

/** What a dispatch found for one key, and how long it may be reused. */
export interface Outcome {
  readonly auth: boolean;
  /** Milliseconds the answer stays good; 0 when it must not be kept. */
  readonly ttlMs: number;
  /** A probe failed (timeout, crash, unreadable file): the answer is `false` for now, never a lasting one. */
  readonly failed?: boolean;
  /** Paths the answer depends on, with their fingerprints when probed. */
  readonly deps: ReadonlyMap<string, string>;
}

/**
 * How long a worker's answer may be kept: a `true` for the positive TTL; a
 * `false` for the negative TTL only when every probe found a lasting absence.
 * A timeout, crash or unreadable file answers `false` now and is kept only
 * for the failure TTL (0 by default: not at all), never as a lasting no.
 */
export function decide(result: ProviderResult, ttl: { positiveTtlMs: number; negativeTtlMs: number; failureTtlMs: number }): Outcome {
  const deps = new Map(result.deps ?? []);
  if (result.auth) return { auth: true, ttlMs: ttl.positiveTtlMs, deps };
  const lasting = result.error === undefined && result.probes.every((p) => p.outcome === 'absent');
  return lasting ? { auth: false, ttlMs: ttl.negativeTtlMs, deps } : { auth: false, ttlMs: ttl.failureTtlMs, deps, failed: true };
}

/**
 * One kept answer for one key of one scope. Its freshness is two booleans
 * flipped by timers (Node keeps one underlying timer per duration, so this is
 * cheap), so a hit reads a field instead of a clock: `fresh` until the TTL
 * ends, `servable` until the stale window after it ends too. Retiring the
 * record (a newer answer, a file change, `invalidate()`) clears both at once.
 */
export class AnswerRecord {
  readonly promise: Promise<boolean>;
  /** Within its TTL and not retired: served as is. */
  fresh = true;
  /** Within its TTL or the stale window after it, and not retired: served while a refresh runs. */
  servable = true;
  /** A background refresh of this record is under way. */
  refreshing = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    /** Opaque owner (the scope's state); lets a change find where to refresh. */
    readonly owner: object,
    readonly key: string,
    readonly id: string,
    readonly modelApi: string | undefined,
    readonly auth: boolean,
    readonly deps: ReadonlyMap<string, string>,
    /** The scope's change sequence when the probe started: an older answer never replaces a newer one. */
    readonly seq: number,
    ttlMs: number,
    staleMs: number,
  ) {
    this.promise = auth ? TRUE : FALSE;
    this.#timer = setTimeout(() => this.#expire(staleMs), ttlMs).unref();
  }

  /** Set when a newer answer, a file change or `invalidate()` replaced it. */
  get retired(): boolean {
    return this.#retired;
  }

  #retired = false;

  #expire(staleMs: number): void {
    this.fresh = false;
    if (staleMs > 0) {
      this.#timer = setTimeout(() => {
        this.servable = false;
        this.#timer = undefined;
      }, staleMs).unref();
    } else {
      this.servable = false;
      this.#timer = undefined;
    }
  }

  /** No longer served, by any checker. */
  retire(): void {
    this.#retired = true;
    this.fresh = false;
    this.servable = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * A checker's memo: the caller's raw provider string (and modelApi) → record.
 * Holds at most `maxEntries`; beyond that it starts over (records stay in
 * their scope, so the next check is a cheap miss).
 */
export class RecordMemo {
  readonly #plain = new Map<string, AnswerRecord>();
  readonly #byModelApi = new Map<string, Map<string, AnswerRecord>>();
  readonly #maxEntries: number;
  #size = 0;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  get(provider: string, modelApi: string | undefined): AnswerRecord | undefined {
    return modelApi === undefined ? this.#plain.get(provider) : this.#byModelApi.get(provider)?.get(modelApi);
  }

  set(provider: string, modelApi: string | undefined, record: AnswerRecord): void {
    if (this.#size >= this.#maxEntries) this.clear();
    if (modelApi === undefined) {
      if (!this.#plain.has(provider)) this.#size++;
      this.#plain.set(provider, record);
      return;
    }
    let inner = this.#byModelApi.get(provider);
    if (!inner) this.#byModelApi.set(provider, (inner = new Map()));
    if (!inner.has(modelApi)) this.#size++;
    inner.set(modelApi, record);
  }

  clear(): void {
    this.#plain.clear();
    this.#byModelApi.clear();
    this.#size = 0;
  }
}
