/**
 * Between the cache and dispatch: per scope, concurrent checks of one key
 * share one dispatch (single flight), and the misses of one tick are batched
 * into a few worker tasks instead of one task per provider.
 */
import { decide, type AnswerRecord, type Outcome } from './cache.js';
import { AuthProbeError } from './errors.js';
import type { Dispatcher, DispatchRequest } from './dispatch.js';
import type { ResolvedOptions } from './options.js';
import type { ProviderResult } from './schema.js';
import { mergeEnv, type ResolvedScope } from './scope.js';

/** Everything the pool keeps per scope. */
export class ScopeState {
  /** The scope's kept answers by key, shared by all its checkers; a `warm()` publishes here. */
  readonly answers = new Map<string, AnswerRecord>();
  /** Dispatches under way by key, with the change sequence they started at. */
  readonly inflight = new Map<string, { readonly promise: Promise<Outcome>; readonly seq: number }>();
  /** Misses of the current tick, by modelApi (`''` for none), waiting to be dispatched together. */
  readonly pending = new Map<string, Map<string, Deferred>>();
  /** The newest `warm()` on this scope; an older one must not publish. */
  warmToken = 0;
  /** Bumped when a file an answer of this scope depends on changes. */
  changeSeq = 0;

  constructor(readonly scope: ResolvedScope) {}
}

interface Deferred {
  readonly promise: Promise<Outcome>;
  resolve(d: Outcome): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: (d: Outcome) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<Outcome>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface CoalesceCounters {
  coalesced: number;
}

/**
 * Splits `ids` into tasks of at most `batchSize`, and at least about four
 * tasks per thread so one slow CLI does not hold up the whole sweep, and calls
 * `onResult` as each task's answers arrive.
 */
export async function runBatched(
  dispatcher: Dispatcher,
  options: ResolvedOptions,
  ids: readonly string[],
  req: DispatchRequest,
  onResult: (result: ProviderResult) => void,
): Promise<void> {
  const size = Math.max(1, Math.min(options.batchSize, Math.ceil(ids.length / (options.maxThreads * 4))));
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < ids.length; i += size) {
    tasks.push(dispatcher.run(ids.slice(i, i + size), req).then((results) => results.forEach(onResult)));
  }
  // Wait for every task even when one rejects, so no answer arrives after we return.
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

export function dispatchRequest(options: ResolvedOptions, scope: ResolvedScope, modelApi: string | undefined, mode: DispatchRequest['mode']): DispatchRequest {
  const { agentDir, workspaceDir, agentId } = scope;
  return {
    modelApi,
    mode,
    env: mergeEnv(options.env, scope),
    scope: { ...(agentDir ? { agentDir } : {}), ...(workspaceDir ? { workspaceDir } : {}), ...(agentId ? { agentId } : {}) },
  };
}

export class Coalescer {
  /** Distinct keys waiting or running, over all scopes: bounded by `maxQueue`. */
  #waiting = 0;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly options: ResolvedOptions,
    private readonly counters: CoalesceCounters,
  ) {}

  /**
   * The outcome for a key (a normalised id, plus modelApi for providers that
   * answer by it), joining a dispatch of the same key already in flight if it
   * started at or after change `minSeq`: a refresh after a file change never
   * reuses a probe that may have read the old file.
   */
  resolve(state: ScopeState, key: string, id: string, modelApi: string | undefined, minSeq = 0): Promise<Outcome> {
    const running = state.inflight.get(key);
    if (running && running.seq >= minSeq) {
      this.counters.coalesced++;
      return running.promise;
    }
    if (this.#waiting >= this.options.maxQueue) {
      return Promise.reject(new AuthProbeError('E_QUEUE_FULL', `${this.#waiting} distinct checks waiting, limit ${this.options.maxQueue}`));
    }
    const batchKey = modelApi ?? '';
    let batch = state.pending.get(batchKey);
    if (!batch) {
      state.pending.set(batchKey, (batch = new Map()));
      queueMicrotask(() => this.#flush(state, batchKey, modelApi));
    }
    // A newer request for an id already in this tick's batch shares its dispatch: it has not started yet.
    const queued = batch.get(id);
    if (queued) return queued.promise;
    const d = deferred();
    batch.set(id, d);
    const entry = {
      seq: state.changeSeq,
      promise: d.promise.finally(() => {
        if (state.inflight.get(key) === entry) state.inflight.delete(key);
        this.#waiting--;
      }),
    };
    state.inflight.set(key, entry);
    this.#waiting++;
    return entry.promise;
  }

  #flush(state: ScopeState, batchKey: string, modelApi: string | undefined): void {
    const batch = state.pending.get(batchKey);
    state.pending.delete(batchKey);
    if (!batch) return;
    let req: DispatchRequest;
    try {
      req = dispatchRequest(this.options, state.scope, modelApi, 'first');
    } catch (err) {
      for (const d of batch.values()) d.reject(err);
      return;
    }
    runBatched(this.dispatcher, this.options, [...batch.keys()], req, (result) => {
      batch.get(result.provider)?.resolve(decide(result, this.options));
    }).then(
      // A provider the worker did not answer for must not hang its callers.
      () => batch.forEach((d) => d.resolve({ auth: false, ttlMs: 0, deps: new Map(), failed: true })),
      (err: unknown) => batch.forEach((d) => d.reject(err)),
    );
  }
}
