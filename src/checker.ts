/**
 * The drop-in checker: `(provider, modelApi?) => Promise<boolean>`. The hit
 * path is a Map lookup returning an already-resolved promise; everything
 * else (validation, the scope's shared answers, single flight, dispatch)
 * happens on a miss.
 */
import { RecordMemo, type AnswerRecord } from './cache.js';
import type { ScopeState } from './coalesce.js';
import { AuthProbeError } from './errors.js';
import type { AuthChecker } from './pool-types.js';

export type { AuthChecker };

/** The parts of the pool a checker needs. */
export interface CheckerHost {
  readonly counters: { cacheHits: number; staleHits: number; snapshotHits: number };
  /** The miss path: a record (kept answer), or a bare answer that must not be kept. */
  lookup(state: ScopeState, provider: unknown, modelApi: unknown): Promise<AnswerRecord | boolean>;
  /** Starts a background refresh of an expired record still within its stale window. */
  revalidate(record: AnswerRecord): void;
}

const MAX_MODEL_API_LENGTH = 256;

export function validateModelApi(modelApi: unknown): string | undefined {
  if (modelApi === undefined) return undefined;
  if (typeof modelApi !== 'string' || modelApi.length > MAX_MODEL_API_LENGTH || modelApi.includes('\0')) {
    throw new AuthProbeError('E_BAD_MODEL_API', `must be a string of at most ${MAX_MODEL_API_LENGTH} characters without NUL`);
  }
  return modelApi;
}

/**
 * Serves a record if it is current: fresh, or expired but within its stale
 * window (then a background refresh starts and the caller is not kept
 * waiting). Returns undefined on a miss.
 */
export function serve(host: CheckerHost, record: AnswerRecord | undefined, counter: 'cacheHits' | 'snapshotHits' = 'cacheHits'): Promise<boolean> | undefined {
  if (record === undefined || !record.servable) return undefined;
  if (record.fresh) {
    host.counters[counter]++;
    return record.promise;
  }
  host.counters.staleHits++;
  host.revalidate(record);
  return record.promise;
}

export function createCheckerFor(host: CheckerHost, state: ScopeState): AuthChecker {
  const memo = new RecordMemo();
  const counters = host.counters;
  const slow = async (provider: string, modelApi: string | undefined, known: AnswerRecord | undefined): Promise<boolean> => {
    const stale = serve(host, known);
    if (stale !== undefined) return stale;
    const found = await host.lookup(state, provider, modelApi);
    if (typeof found === 'boolean') return found;
    memo.set(provider, modelApi, found);
    return found.auth;
  };
  // The hit path: a Map lookup, a field read, a counter, an already-resolved promise.
  return (provider, modelApi) => {
    const record = memo.get(provider, modelApi);
    if (record !== undefined && record.fresh) {
      counters.cacheHits++;
      return record.promise;
    }
    return slow(provider, modelApi, record);
  };
}
