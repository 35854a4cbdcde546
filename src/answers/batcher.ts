/**
 * Between the answers and dispatch: the runs asked for in one tick go to the
 * workers together, in a few tasks rather than one task per provider, and
 * across scopes (a thousand agents checked at once share a few tasks), in the
 * order of their expected cost (see `costs.ts`), never the caller's. Each run
 * names the plan positions to probe.
 */
import { setImmediate as turn } from 'node:timers/promises';
import type { Dispatcher, DispatchRequest } from '../dispatch/dispatcher.js';
import { errorData } from '../errors.js';
import type { ResolvedOptions } from '../config/options.js';
import type { ProbeTask, ProviderResult } from '../config/schema.js';
import { mergeEnv, type ResolvedScope } from '../config/scope.js';
import { tasksByCost, type RunCost } from './costs.js';
import type { ScopeState } from './scopes.js';

/** One provider to probe: its normalised id, the plan positions to run (all of them when undefined), and its scope. */
export interface RunItem {
  readonly id: string;
  readonly only: readonly number[] | undefined;
  readonly state: ScopeState;
}

interface Pending extends RunItem {
  resolve(result: ProviderResult): void;
  reject(err: unknown): void;
}

type TaskScope = NonNullable<ProbeTask['scopes']>[number];

/** What a task says of a scope: its paths, and the env its probes see, read now. */
function taskScope(options: ResolvedOptions, scope: ResolvedScope): TaskScope {
  const { agentDir, workspaceDir, agentId } = scope;
  return {
    // Read at dispatch: a run never sees an env older than the moment it was sent.
    env: mergeEnv(options.env, scope),
    scope: { ...(agentDir ? { agentDir } : {}), ...(workspaceDir ? { workspaceDir } : {}), ...(agentId ? { agentId } : {}) },
  };
}

export function dispatchRequest(options: ResolvedOptions, scope: ResolvedScope, modelApi: string | undefined, mode: DispatchRequest['mode']): DispatchRequest {
  return { modelApi, mode, ...taskScope(options, scope) };
}

/** Tasks sent in one turn of the event loop, at most. */
const TASKS_PER_TURN = 16;

/** Fewest providers in a task, unless `batchSize` or the number of providers is smaller: a task costs a message and a schedule. */
const MIN_TASK_PROVIDERS = 4;

/** Providers per task: about four tasks per thread (tasks spread over the threads, and run side by side in each), within [MIN_TASK_PROVIDERS, batchSize]. */
function taskSize(providers: number, maxThreads: number, batchSize: number): number {
  return Math.max(1, Math.min(batchSize, Math.max(MIN_TASK_PROVIDERS, Math.ceil(providers / (maxThreads * 4)))));
}

/**
 * Runs with a command probe per task, at most: a thread's share of the command budget, so that a sweep with more
 * CLIs than that makes several tasks of them, which go to different threads (see `tasksByCost`). A thread is not
 * held to its share: the budget is the pool's, and a thread whose CLIs wait takes the slots the others leave free.
 */
function commandsPerTask(maxConcurrentCommands: number, maxThreads: number): number {
  return Math.max(1, Math.ceil(maxConcurrentCommands / maxThreads));
}

/**
 * Splits `items` into tasks of {@link taskSize} providers, with {@link commandsPerTask} CLI runs at most, and calls
 * `onResult` as each task's answers arrive. Each task carries the scopes of
 * its own providers only. Rejects (after every task ended) with the first
 * task's rejection, if any.
 */
async function runBatched(
  dispatcher: Dispatcher,
  options: ResolvedOptions,
  runs: readonly RunItem[],
  modelApi: string | undefined,
  onResult: (result: ProviderResult, item: RunItem) => void,
  costOf: (item: RunItem) => RunCost,
  onSent: () => void,
): Promise<void> {
  const size = taskSize(runs.length, options.maxThreads, options.batchSize);
  // Runs with CLIs first, slowest first, so their waits start at once and overlap; lookups next, by scope, so an
  // agent's providers share a task (and one read of its store); modules last.
  const slices = tasksByCost(runs, costOf, (item) => item.state.scope.key, size, commandsPerTask(options.maxConcurrentCommands, options.maxThreads));
  // Scopes without an env of their own share one merged env object, which a task then carries once.
  const shared = new Map<ScopeState, TaskScope>();
  let plainEnv: TaskScope['env'] | undefined;
  const scopeOf = (state: ScopeState): TaskScope => {
    let ts = shared.get(state);
    if (!ts) {
      ts = taskScope(options, state.scope);
      if (state.scope.env === undefined) ts = { scope: ts.scope, env: (plainEnv ??= ts.env) };
      shared.set(state, ts);
    }
    return ts;
  };
  const tasks: Promise<void>[] = [];
  for (const [t, slice] of slices.entries()) {
    // A thousand agents checked at once make a hundred tasks or more, each a channel, shared cells and a message:
    // sent a slice at a time, with a turn of the loop between, so the gateway's own work is never held for long.
    if (t > 0 && t % TASKS_PER_TURN === 0) await turn();
    const states = [...new Set(slice.map((item) => item.state))];
    const first = scopeOf(states[0] as ScopeState);
    const req: DispatchRequest = {
      modelApi,
      mode: 'first',
      ...first,
      ...(slice.some((item) => item.only !== undefined) ? { only: slice.map((item) => item.only ?? null) } : {}),
      ...(states.length > 1 ? { scopes: states.map(scopeOf), scopeIndex: slice.map((item) => states.indexOf(item.state)) } : {}),
    };
    // Each answer as the dispatcher delivers it: a task cut off at a deadline delivers what it had done at once.
    tasks.push(
      dispatcher
        .dispatch(
          slice.map((item) => item.id),
          req,
          (j, result) => onResult(result, slice[j] as RunItem),
        )
        .then(() => undefined),
    );
  }
  onSent();
  // Wait for every task even when one rejects, so no answer arrives after we return.
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

export class RunBatcher {
  /** This tick's runs, by modelApi (`''` for none). */
  readonly #pending = new Map<string, Pending[]>();
  /** Batches whose tasks are still being sent, a slice per turn. */
  readonly #sending = new Set<Promise<void>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly options: ResolvedOptions,
    /** What a run is expected to cost (see `RunCosts.estimate`). */
    private readonly costOf: (item: RunItem) => RunCost,
    /** Told of each result, to learn what its probes cost. */
    private readonly onResult: (item: RunItem, result: ProviderResult) => void,
  ) {}

  /** Probes one provider's `only` positions in its scope (stopping at the first that finds auth), with this tick's other runs. */
  enqueue(modelApi: string | undefined, item: RunItem): Promise<ProviderResult> {
    const batchKey = modelApi ?? '';
    let batch = this.#pending.get(batchKey);
    if (!batch) {
      this.#pending.set(batchKey, (batch = []));
      queueMicrotask(() => this.#flush(batchKey, modelApi));
    }
    const list = batch;
    return new Promise((resolve, reject) => list.push({ ...item, resolve, reject }));
  }

  /** Resolves once every run asked for so far has gone to the dispatcher: what a graceful close waits for first. */
  async sent(): Promise<void> {
    while (this.#pending.size > 0 || this.#sending.size > 0) {
      // A batch flushes on a microtask queued when it began: let it run, then wait for its slices.
      await Promise.resolve();
      await Promise.all([...this.#sending]);
    }
  }

  #flush(batchKey: string, modelApi: string | undefined): void {
    const batch = this.#pending.get(batchKey);
    this.#pending.delete(batchKey);
    if (!batch) return;
    const answered = new Set<Pending>();
    let sent!: () => void;
    const sending = new Promise<void>((resolve) => (sent = resolve));
    this.#sending.add(sending);
    const done = () => {
      this.#sending.delete(sending);
      sent();
    };
    runBatched(
      this.dispatcher,
      this.options,
      batch,
      modelApi,
      (result, item) => {
        answered.add(item as Pending);
        this.onResult(item, result);
        (item as Pending).resolve(result);
      },
      this.costOf,
      done,
    )
      .finally(done)
      .then(
        // A provider the worker did not answer for must not hang its callers.
        () => {
          for (const p of batch)
            if (!answered.has(p)) p.resolve({ provider: p.id, auth: false, decidedBy: null, probes: [], durationMs: 0, error: errorData('E_BAD_WORKER_RESULT', 'no result for the provider') });
        },
        (err: unknown) => {
          for (const p of batch) if (!answered.has(p)) p.reject(err);
        },
      );
  }
}
