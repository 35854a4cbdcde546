/**
 * What the dispatcher is asked to run, and the task a worker receives for it:
 * a request names a scope, an env and a mode for a list of providers, and
 * per-provider fields (`skip`, `only`, `scopeIndex`) indexed like that list.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ProbeSkip, ProbeTask } from '../config/schema.js';

export interface DispatchRequest {
  readonly modelApi?: string | undefined;
  readonly scope: ProbeTask['scope'];
  readonly env: Readonly<Record<string, string>>;
  readonly mode: ProbeTask['mode'];
  /** Probes to report as failed rather than run, after they hung or killed a worker. */
  readonly skip?: ProbeTask['skip'];
  /** Runs of these providers that ended with their thread for another task's probe (see MAX_COLLATERAL_RUNS in `recovery.ts`). */
  readonly collateral?: number;
  /** Plan positions to run, by provider (the rest of its plan is not run). */
  readonly only?: ProbeTask['only'];
  /** Several scopes in one task, and each provider's index into them. */
  readonly scopes?: ProbeTask['scopes'];
  readonly scopeIndex?: ProbeTask['scopeIndex'];
}

/** The worker's task for `req`: `control` holds its watchdog cells, and `port` is where the worker posts its results and commands. */
export function probeTask(providers: readonly string[], req: DispatchRequest, control: SharedArrayBuffer, port: MessagePort): ProbeTask {
  return {
    providers,
    scope: req.scope,
    env: req.env,
    mode: req.mode,
    control,
    port,
    ...(req.modelApi !== undefined ? { modelApi: req.modelApi } : {}),
    ...(req.skip !== undefined ? { skip: req.skip } : {}),
    ...(req.only !== undefined ? { only: req.only } : {}),
    ...(req.scopes !== undefined ? { scopes: req.scopes, scopeIndex: req.scopeIndex } : {}),
  };
}

/** The request for a re-run of some of a task's providers (`keep`, their indices in it): per-provider fields renumbered. */
export function subRequest(req: DispatchRequest, keep: readonly number[]): DispatchRequest {
  const skip: Record<number, ProbeSkip[]> = {};
  keep.forEach((i, j) => {
    const s = req.skip?.[i];
    if (s) skip[j] = [...s];
  });
  return {
    ...req,
    skip,
    ...(req.only !== undefined ? { only: keep.map((i) => req.only?.[i] ?? null) } : {}),
    ...(req.scopeIndex !== undefined ? { scopeIndex: keep.map((i) => req.scopeIndex?.[i] ?? 0) } : {}),
  };
}
