/**
 * The drop-in checker: `(provider, modelApi?) => Promise<boolean>`. The hit
 * path is a Map lookup returning an already-resolved promise; everything
 * else (validation, the scope's shared answers, dispatch) happens on a miss.
 */
import type { Answer } from './answer.js';
import type { ScopeState } from './scopes.js';
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
 * What a miss found, as its check answers it: a kept answer is remembered for the spelling (and modelApi) the caller
 * used, so its next check is a hit; a bare value (an answer dropped while it was probed, which the book gives as its
 * value alone; a refused id) is not.
 */
export function remember(state: ScopeState, provider: string, modelApi: string | undefined, found: Answer | boolean): boolean {
  if (typeof found === 'boolean') return found;
  state.memo.set(provider, modelApi, found);
  return found.auth;
}

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
