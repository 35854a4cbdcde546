/**
 * What the dispatcher is asked to run, and the task a worker receives for it:
 * a request names a scope, an env and a mode for a list of providers, and
 * per-provider fields (`skip`, `only`, `scopeIndex`) indexed like that list.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ProbeSkip, ProbeTask } from '../config/schema.js';
import type { EnvOverlay, EnvRef, ProbeTaskMessage, TaskScope } from '../probes/task-env.js';

export interface DispatchRequest {
  readonly modelApi?: string | undefined;
  readonly scope: ProbeTask['scope'];
  /** The scope's own variables, laid over the pool's environment. */
  readonly overlay?: EnvOverlay | undefined;
  readonly mode: ProbeTask['mode'];
  /** Each provider's whole result (`explain()`), not what a check keeps of it. */
  readonly full?: boolean;
  /** Probes to report as failed rather than run, after they hung or killed a worker. */
  readonly skip?: ProbeTask['skip'];
  /** Runs of these providers that ended with their thread for another task's probe (see MAX_COLLATERAL_RUNS in `recovery.ts`). */
  readonly collateral?: number;
  /** Plan positions to run, by provider (the rest of its plan is not run). */
  readonly only?: ProbeTask['only'];
  /** Several scopes in one task, and each provider's index into them. */
  readonly scopes?: readonly TaskScope[];
  readonly scopeIndex?: ProbeTask['scopeIndex'];
}

/**
 * The worker's task for `req`: `control` holds its watchdog cells, `port` is where the worker posts its results and
 * commands, and `env` the epoch's environment (see `env-epochs.ts`).
 */
export function probeTask(providers: readonly string[], req: DispatchRequest, control: SharedArrayBuffer, port: MessagePort, env: EnvRef): ProbeTaskMessage {
  return {
    providers,
    scope: req.scope,
    env,
    ...(req.overlay !== undefined ? { overlay: req.overlay } : {}),
    mode: req.mode,
    ...(req.full ? { full: true } : {}),
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
