/**
 * The drop-in checker: `(provider, modelApi?) => Promise<boolean>`. The hit
 * path is a Map lookup returning an already-resolved promise; everything
 * else (validation, the prepared snapshot, single flight, dispatch) happens
 * on a miss.
 */
import { AnswerCache, type Decision } from './cache.js';
import type { ScopeState } from './coalesce.js';
import { AuthProbeError } from './errors.js';

/** What a gateway calls today: does this provider have usable auth? */
export type AuthChecker = (provider: string, modelApi?: string) => Promise<boolean>;

/** The parts of the pool a checker needs. */
export interface CheckerHost {
  /** Bumped when cached answers stop being good (invalidate, a published warm). */
  readonly epoch: number;
  /** Bumped by `invalidate()`; an answer computed across a bump is not cached. */
  readonly invalidations: number;
  readonly counters: { cacheHits: number; misses: number; snapshotHits: number };
  /** Validates and normalises; throws `E_BAD_PROVIDER_ID`. */
  normalize(provider: unknown): string;
  /** Resolves on a miss: the snapshot, then single flight and dispatch. Throws `E_POOL_CLOSED`. */
  resolve(state: ScopeState, id: string, modelApi: string | undefined): Promise<Decision>;
}

const MAX_MODEL_API_LENGTH = 256;

export function validateModelApi(modelApi: unknown): string | undefined {
  if (modelApi === undefined) return undefined;
  if (typeof modelApi !== 'string' || modelApi.length > MAX_MODEL_API_LENGTH || modelApi.includes('\0')) {
    throw new AuthProbeError('E_BAD_MODEL_API', `must be a string of at most ${MAX_MODEL_API_LENGTH} characters without NUL`);
  }
  return modelApi;
}

export function createCheckerFor(host: CheckerHost, state: ScopeState): AuthChecker {
  const cache = new AnswerCache();
  const miss = async (provider: string, modelApi: string | undefined): Promise<boolean> => {
    host.counters.misses++;
    const id = host.normalize(provider);
    const api = validateModelApi(modelApi);
    if (id !== provider) {
      // Another spelling of an id already answered ("OpenAI" after "openai").
      const known = cache.get(id, api, host.epoch);
      if (known !== undefined) return known;
    }
    const invalidations = host.invalidations;
    const decision = await host.resolve(state, id, api);
    if (host.invalidations === invalidations) {
      cache.set(provider, api, decision, host.epoch);
      if (id !== provider) cache.set(id, api, decision, host.epoch);
    }
    return decision.auth;
  };
  return (provider, modelApi) => {
    const hit = cache.get(provider, modelApi, host.epoch);
    if (hit !== undefined) {
      host.counters.cacheHits++;
      return hit;
    }
    return miss(provider, modelApi);
  };
}
