/**
 * Between the answers and dispatch: the runs asked for in one tick, per
 * scope and modelApi, go to the workers together, in a few tasks rather than
 * one task per provider. Each run names the plan positions to probe.
 */
import type { Dispatcher, DispatchRequest } from '../dispatch.js';
import { errorData } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { ProviderResult } from '../schema.js';
import { mergeEnv, type ResolvedScope } from '../scope.js';
import type { ScopeState } from './scopes.js';

/** One provider to probe: its normalised id, and the plan positions to run (all of them when undefined). */
export interface RunItem {
  readonly id: string;
  readonly only: readonly number[] | undefined;
}

interface Pending extends RunItem {
  resolve(result: ProviderResult): void;
  reject(err: unknown): void;
}

/**
 * Splits `items` into tasks of at most `batchSize`, and at least about four
 * tasks per thread so one slow CLI does not hold up the whole sweep, and calls
 * `onResult` as each task's answers arrive. Rejects (after every task ended)
 * with the first task's rejection, if any.
 */
export async function runBatched(
  dispatcher: Dispatcher,
  options: ResolvedOptions,
  items: readonly RunItem[],
  req: DispatchRequest,
  onResult: (result: ProviderResult, item: RunItem) => void,
): Promise<void> {
  const size = Math.max(1, Math.min(options.batchSize, Math.ceil(items.length / (options.maxThreads * 4))));
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < items.length; i += size) {
    const slice = items.slice(i, i + size);
    const only = slice.some((item) => item.only !== undefined) ? slice.map((item) => item.only ?? null) : undefined;
    tasks.push(
      dispatcher.run(
        slice.map((item) => item.id),
        only ? { ...req, only } : req,
      ).then((results) => results.forEach((result, j) => onResult(result, slice[j] as RunItem))),
    );
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
    // Read at dispatch: a run never sees an env older than the moment it was sent.
    env: mergeEnv(options.env, scope),
    scope: { ...(agentDir ? { agentDir } : {}), ...(workspaceDir ? { workspaceDir } : {}), ...(agentId ? { agentId } : {}) },
  };
}

export class RunQueue {
  /** This tick's runs, by scope and modelApi. */
  readonly #pending = new Map<ScopeState, Map<string, Pending[]>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly options: ResolvedOptions,
  ) {}

  /** Probes one provider's `only` positions (stopping at the first that finds auth), with this tick's other runs. */
  run(state: ScopeState, modelApi: string | undefined, item: RunItem): Promise<ProviderResult> {
    let byApi = this.#pending.get(state);
    if (!byApi) this.#pending.set(state, (byApi = new Map()));
    const batchKey = modelApi ?? '';
    let batch = byApi.get(batchKey);
    if (!batch) {
      byApi.set(batchKey, (batch = []));
      queueMicrotask(() => this.#flush(state, batchKey, modelApi));
    }
    const list = batch;
    return new Promise((resolve, reject) => list.push({ ...item, resolve, reject }));
  }

  #flush(state: ScopeState, batchKey: string, modelApi: string | undefined): void {
    const byApi = this.#pending.get(state);
    const batch = byApi?.get(batchKey);
    byApi?.delete(batchKey);
    if (byApi?.size === 0) this.#pending.delete(state);
    if (!batch) return;
    let req: DispatchRequest;
    try {
      req = dispatchRequest(this.options, state.scope, modelApi, 'first');
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    const answered = new Set<Pending>();
    runBatched(this.dispatcher, this.options, batch, req, (result, item) => {
      answered.add(item as Pending);
      (item as Pending).resolve(result);
    }).then(
      // A provider the worker did not answer for must not hang its callers.
      () => batch.forEach((p) => answered.has(p) || p.resolve({ provider: p.id, auth: false, decidedBy: null, probes: [], durationMs: 0, error: errorData('E_BAD_WORKER_RESULT', 'no result for the provider') })),
      (err: unknown) => batch.forEach((p) => answered.has(p) || p.reject(err)),
    );
  }
}
