/**
 * The drop-in checker: `(provider, modelApi?) => Promise<boolean>`. The hit
 * path is a Map lookup returning an already-resolved promise; everything
 * else (validation, the scope's shared answers, dispatch) happens on a miss.
 */
import type { Answer, DecidedWaiter } from './answer.js';
import type { ScopeState } from './scopes.js';
import type { Work } from '../slices.js';
import { AuthProbeError } from '../errors.js';
import type { AuthChecker } from '../pool-types.js';
import type { Scope } from '../config/schema.js';

export type { AuthChecker };

/** The parts of the pool a checker needs. */
export interface CheckerHost {
  readonly counters: { cacheHits: number; staleHits: number; snapshotHits: number };
  /** The miss path: the answer, found or made and waited for (and remembered for the spelling, see {@link remember}). */
  lookup(state: ScopeState, provider: unknown, modelApi: unknown): Promise<boolean>;
  /** Starts a background refresh of an expired answer still within its stale window. */
  revalidate(answer: Answer): void;
}

const MAX_MODEL_API_LENGTH = 256;

/**
 * The scope each checker was made for, as its caller gave it: what work on its behalf (a shared `warm()`) runs in. A
 * property of the checker, not a WeakMap entry: a gateway making a thousand agents' checkers in one turn pays a
 * property store for each, not an ephemeron table's growth.
 */
const SCOPE = Symbol('auth-probe-pool.scope');

type ScopedChecker = AuthChecker & { [SCOPE]?: Scope | undefined };

/** The scope `checker` was made for (undefined: the default scope, or not a checker of this library). */
export function scopeOfChecker(checker: AuthChecker): Scope | undefined {
  return (checker as ScopedChecker)[SCOPE];
}

/** Records the scope a checker was made for. */
export function recordCheckerScope(checker: AuthChecker, scope: Scope | undefined): AuthChecker {
  (checker as ScopedChecker)[SCOPE] = scope;
  return checker;
}

export function validateModelApi(modelApi: unknown): string | undefined {
  if (modelApi === undefined) return undefined;
  if (typeof modelApi !== 'string' || modelApi.length > MAX_MODEL_API_LENGTH || modelApi.includes('\0')) {
    throw new AuthProbeError('E_BAD_MODEL_API', `must be a string of at most ${MAX_MODEL_API_LENGTH} characters without NUL`);
  }
  return modelApi;
}

/**
 * Serves an answer if it can be: fresh, or expired but within its stale
 * window (then a background refresh starts and the caller is not kept
 * waiting). Returns undefined on a miss.
 */
export function serve(host: CheckerHost, answer: Answer | undefined, counter: 'cacheHits' | 'snapshotHits' = 'cacheHits'): Promise<boolean> | undefined {
  // A `true` past its expiry is never served: the miss path moves it on (see the book's `#expire`).
  if (answer === undefined || !answer.served || !within(answer)) return undefined;
  if (answer.servedAsIs) {
    answer.used = true;
    host.counters[counter]++;
    return answer.promise;
  }
  host.counters.staleHits++;
  host.revalidate(answer);
  return answer.promise;
}

/** The answer's `true`, if it is one, has not reached its expiry: a clock read only for a `true` that has one. */
function within(answer: Answer): boolean {
  return answer.trueUntil === Infinity || answer.trueUntil > Date.now();
}

/**
 * A check's miss, from its call to its answer, as one object: queued for the pool's slice as it is (`run`), then told
 * what was found. Beside the caller's promise it is all a miss keeps until its slice: a thousand agents' checks made in
 * one turn are five thousand of them, alive through a garbage collection or two, where a waiter object, its closure and
 * the queued closure were three times the memory.
 */
export class Miss implements Work, DecidedWaiter {
  /** The caller's promise's resolving functions, set by its executor. */
  settle: (auth: boolean) => void = noop;
  reject: (err: unknown) => void = noop;

  constructor(
    readonly host: MissHost,
    readonly state: ScopeState,
    readonly provider: unknown,
    readonly modelApi: unknown,
    /** Whether the pool was closing when the check was made: it is refused then, even if its slice comes after. */
    readonly closed: boolean,
  ) {}

  run(): void {
    try {
      this.host.lookupNow(this);
    } catch (err) {
      this.reject(err);
    }
  }

  /**
   * Answers the check: a kept answer is remembered for the spelling (and modelApi) the caller used, so its next check
   * is a hit; a bare value (a refused id) is not.
   */
  found(found: Answer | boolean): void {
    if (typeof found === 'boolean') return this.settle(found);
    this.state.memo.set(this.provider as string, this.modelApi as string | undefined, found);
    this.settle(found.auth);
  }

  /** The book's answer: as a bare value if it was dropped while it was probed (it is kept no more). */
  decided(answer: Answer, auth: boolean): void {
    this.found(answer.state === 'retired' ? auth : answer);
  }
}

/** What a miss is handled by, in its slice: the pool. */
export interface MissHost {
  lookupNow(miss: Miss): void;
}

const noop = (): void => {};

export function createCheckerFor(host: CheckerHost, state: ScopeState): AuthChecker {
  const memo = state.memo;
  const counters = host.counters;
  // Not an async function: a burst of misses (a thousand agents' checks in one turn) costs the caller's turn one
  // promise and one queued closure each.
  const slow = (provider: string, modelApi: string | undefined, known: Answer | undefined): Promise<boolean> => {
    const stale = serve(host, known);
    if (stale !== undefined) return stale;
    return host.lookup(state, provider, modelApi);
  };
  // The hit path: a Map lookup, two field reads, two field writes, an already-resolved promise.
  return (provider, modelApi) => {
    const answer = memo.get(provider, modelApi);
    if (answer?.servedAsIs && within(answer)) {
      counters.cacheHits++;
      answer.used = true;
      return answer.promise;
    }
    return slow(provider, modelApi, answer);
  };
}
