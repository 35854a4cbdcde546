/**
 * Answers kept on the main thread. A cached check is a Map lookup and an
 * already-resolved promise: nothing is allocated, logged or parsed on a hit.
 */
import { performance } from 'node:perf_hooks';
import type { ProviderResult } from './schema.js';

const TRUE = Promise.resolve(true);
const FALSE = Promise.resolve(false);

/** A settled answer and how long it may be reused. */
export interface Decision {
  readonly auth: boolean;
  /** Milliseconds the answer stays good; 0 when it must not be cached (a probe failed). */
  readonly ttlMs: number;
}

/**
 * How long a worker's answer may be kept: a `true` for the positive TTL; a
 * `false` for the negative TTL only when every probe found a lasting absence.
 * A timeout, crash or unreadable file answers `false` now and is not kept.
 */
export function decide(result: ProviderResult, ttl: { positiveTtlMs: number; negativeTtlMs: number }): Decision {
  if (result.auth) return { auth: true, ttlMs: ttl.positiveTtlMs };
  const lasting = result.error === undefined && result.probes.every((p) => p.outcome === 'absent');
  return { auth: false, ttlMs: lasting ? ttl.negativeTtlMs : 0 };
}

interface Entry {
  readonly promise: Promise<boolean>;
  readonly expiresAt: number;
  readonly epoch: number;
}

/**
 * Keyed by the caller's raw provider string (and modelApi), so a hit needs no
 * normalisation. Holds at most `maxEntries`; the oldest go first.
 */
export class AnswerCache {
  readonly #plain = new Map<string, Entry>();
  readonly #byModelApi = new Map<string, Map<string, Entry>>();
  readonly #maxEntries: number;
  #size = 0;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  /** The cached promise, if one is still good for this epoch. */
  get(provider: string, modelApi: string | undefined, epoch: number): Promise<boolean> | undefined {
    const entry = modelApi === undefined ? this.#plain.get(provider) : this.#byModelApi.get(provider)?.get(modelApi);
    if (entry === undefined || entry.epoch !== epoch || entry.expiresAt <= performance.now()) return undefined;
    return entry.promise;
  }

  set(provider: string, modelApi: string | undefined, decision: Decision, epoch: number): void {
    if (decision.ttlMs <= 0) return;
    if (this.#size >= this.#maxEntries) this.clear();
    const entry: Entry = { promise: decision.auth ? TRUE : FALSE, expiresAt: performance.now() + decision.ttlMs, epoch };
    if (modelApi === undefined) {
      if (!this.#plain.has(provider)) this.#size++;
      this.#plain.set(provider, entry);
      return;
    }
    let inner = this.#byModelApi.get(provider);
    if (!inner) this.#byModelApi.set(provider, (inner = new Map()));
    if (!inner.has(modelApi)) this.#size++;
    inner.set(modelApi, entry);
  }

  clear(): void {
    this.#plain.clear();
    this.#byModelApi.clear();
    this.#size = 0;
  }
}

/** Prepared answers published by `warm()`, by normalised provider id. */
export class Snapshot {
  readonly #answers = new Map<string, { readonly auth: boolean; readonly expiresAt: number }>();

  get(id: string): boolean | undefined {
    const a = this.#answers.get(id);
    return a !== undefined && a.expiresAt > performance.now() ? a.auth : undefined;
  }

  publish(answers: ReadonlyMap<string, Decision>): void {
    const now = performance.now();
    for (const [id, d] of answers) {
      if (d.ttlMs > 0) this.#answers.set(id, { auth: d.auth, expiresAt: now + d.ttlMs });
      else this.#answers.delete(id);
    }
  }

  get size(): number {
    return this.#answers.size;
  }

  clear(): void {
    this.#answers.clear();
  }
}
