/**
 * Between the answers and dispatch: the runs asked for in one burst (the work
 * of one turn, or of the slices of the loop it took: see `slices.ts`) go to the
 * workers together, in a few tasks rather than one task per provider, and
 * across scopes (a thousand agents checked at once share a few tasks), in the
 * order of their expected cost (see `costs.ts`), never the caller's. Each run
 * names the plan positions to probe.
 */
import type { Dispatcher, DispatchRequest } from '../dispatch/dispatcher.js';
import { errorData } from '../errors.js';
import type { ResolvedOptions } from '../config/options.js';
import type { ProviderResult } from '../config/schema.js';
import type { ResolvedScope } from '../config/scope.js';
import type { TaskScope } from '../probes/task-env.js';
import { tasksByCost, type RunCost } from './costs.js';
import type { ScopeState } from './scopes.js';
import type { Slices } from '../slices.js';

/** One provider to probe: its normalised id, the plan positions to run (all of them when undefined), and its scope. */
export interface RunItem {
  readonly id: string;
  readonly only: readonly number[] | undefined;
  readonly state: ScopeState;
}

/** A run waiting to be sent, and where its result goes: an object of the caller's, so a run costs no promise or closure. */
export interface QueuedRun extends RunItem {
  /** Its result (a failure for a provider the worker did not answer for). */
  ended(result: ProviderResult): void;
  /** It could not be dispatched (the pool closed). */
  refused(err: unknown): void;
}

/** What a task says of a scope: its paths, and its own variables (the pool's environment goes with the task, see `dispatch/env-epochs.ts`). */
function taskScope(scope: ResolvedScope): TaskScope {
  const { agentDir, workspaceDir, agentId, env } = scope;
  return {
    scope: { ...(agentDir ? { agentDir } : {}), ...(workspaceDir ? { workspaceDir } : {}), ...(agentId ? { agentId } : {}) },
    ...(env !== undefined ? { overlay: { key: scope.key, vars: env } } : {}),
  };
}

export function dispatchRequest(scope: ResolvedScope, modelApi: string | undefined, mode: DispatchRequest['mode']): DispatchRequest {
  return { modelApi, mode, ...taskScope(scope) };
}

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

/** What sending a batch takes of the batcher. */
interface SendParts {
  readonly dispatcher: Dispatcher;
  readonly options: ResolvedOptions;
  readonly costOf: (item: RunItem) => RunCost;
  readonly slices: Slices;
}

/**
 * Splits `runs` into tasks of {@link taskSize} providers, with {@link commandsPerTask} CLI runs at most, and calls
 * `onResult` as each task's answers arrive. Each task carries the scopes of its own providers only. Rejects (after
 * every task ended) with the first task's rejection, if any.
 */
async function runBatched(
  { dispatcher, options, costOf, slices }: SendParts,
  runs: readonly RunItem[],
  modelApi: string | undefined,
  onResult: (result: ProviderResult, item: RunItem) => void,
  onSent: () => void,
): Promise<void> {
  const size = taskSize(runs.length, options.maxThreads, options.batchSize);
  let envReads = 0;
  const costed = (item: RunItem): RunCost => {
    const cost = costOf(item);
    envReads += cost.envReads;
    return cost;
  };
  // Runs with CLIs first, slowest first, so their waits start at once and overlap; lookups next, by scope, so an
  // agent's providers share a task (and one read of its store); modules last.
  const grouped = tasksByCost(runs, costed, (item) => item.state.ordinal, size, commandsPerTask(options.maxConcurrentCommands, options.maxThreads));
  // Told before the first of them is sent: a worker reading process.env then knows how much of it the burst will ask for.
  dispatcher.expectEnvReads(envReads);
  const described = new Map<ScopeState, TaskScope>();
  const scopeOf = (state: ScopeState): TaskScope => {
    let ts = described.get(state);
    if (!ts) described.set(state, (ts = taskScope(state.scope)));
    return ts;
  };
  const tasks: Promise<void>[] = [];
  // A thousand agents checked at once make a hundred tasks or more, each a channel, shared cells and a message:
  // sent in the pool's slices of the loop, so the gateway's own work is never held for long, and before the work that
  // waits there (the rest of the burst's misses), so the threads start on them at once.
  await slices.forEach(
    grouped,
    (slice) => {
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
    },
    { urgent: true },
  );
  onSent();
  // Wait for every task even when one rejects, so no answer arrives after we return.
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Runs sent in one flush at most. A burst that takes several slices of the loop (see `slices.ts`) is sent when it
 * ends, as one batch, so its tasks are as full as if it had come in one turn; a larger one is sent this many at a
 * time, so its first tasks do not wait for the last of its runs, and sorting a batch stays short.
 */
const MAX_BATCH = 1024;

/** Times a batch waits for the slices' work to be done, at most, before it is sent anyway. */
const MAX_DEFERRALS = 16;

export class RunBatcher {
  /** Runs not sent yet, by modelApi (`''` for none). */
  readonly #pending = new Map<string, QueuedRun[]>();
  /** Batches whose tasks are still being sent, a slice per turn. */
  readonly #sending = new Set<Promise<void>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly options: ResolvedOptions,
    /** What a run is expected to cost (see `RunCosts.estimate`). */
    private readonly costOf: (item: RunItem) => RunCost,
    /** Told of each result, to learn what its probes cost. */
    private readonly onResult: (item: RunItem, result: ProviderResult) => void,
    /** The pool's slices of the loop: a batch waits for the burst that makes it to end. */
    private readonly slices: Slices,
  ) {}

  /** Probes one provider's `only` positions in its scope (stopping at the first that finds auth), with this burst's other runs. */
  enqueue(modelApi: string | undefined, run: QueuedRun): void {
    const batchKey = modelApi ?? '';
    let batch = this.#pending.get(batchKey);
    if (!batch) {
      const made: QueuedRun[] = (batch = []);
      this.#pending.set(batchKey, made);
      queueMicrotask(() => this.#flushWhenDone(batchKey, modelApi, made, 0));
    } else if (batch.length >= MAX_BATCH) {
      this.#flush(batchKey, modelApi);
      return this.enqueue(modelApi, run);
    }
    batch.push(run);
  }

  /** Resolves once every run asked for so far has gone to the dispatcher: what a graceful close waits for first. */
  async sent(): Promise<void> {
    while (this.#pending.size > 0 || this.#sending.size > 0) {
      // A batch flushes once the work of the slices that make it is done: let it, then wait for its tasks to be sent.
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.all([...this.#sending]);
    }
  }

  /**
   * Flushes `batch` once no work of the pool waits for a slice (the burst that made it is over), or after
   * MAX_DEFERRALS slices of work that never ends; not if it was flushed already (it grew to MAX_BATCH).
   */
  #flushWhenDone(batchKey: string, modelApi: string | undefined, batch: QueuedRun[], deferrals: number): void {
    if (this.#pending.get(batchKey) !== batch) return;
    if (this.slices.waiting === 0 || deferrals >= MAX_DEFERRALS) return this.#flush(batchKey, modelApi);
    this.slices.run(() => queueMicrotask(() => this.#flushWhenDone(batchKey, modelApi, batch, deferrals + 1)));
  }

  #flush(batchKey: string, modelApi: string | undefined): void {
    const batch = this.#pending.get(batchKey);
    this.#pending.delete(batchKey);
    if (!batch) return;
    const answered = new Set<QueuedRun>();
    let sent!: () => void;
    const sending = new Promise<void>((resolve) => (sent = resolve));
    this.#sending.add(sending);
    const done = () => {
      this.#sending.delete(sending);
      sent();
    };
    runBatched(
      { dispatcher: this.dispatcher, options: this.options, costOf: this.costOf, slices: this.slices },
      batch,
      modelApi,
      (result, item) => {
        answered.add(item as QueuedRun);
        this.onResult(item, result);
        (item as QueuedRun).ended(result);
      },
      done,
    )
      .finally(done)
      .then(
        // A provider the worker did not answer for must not hang its callers.
        () => {
          for (const p of batch)
            if (!answered.has(p)) p.ended({ provider: p.id, auth: false, decidedBy: null, probes: [], durationMs: 0, error: errorData('E_BAD_WORKER_RESULT', 'no result for the provider') });
        },
        (err: unknown) => {
          for (const p of batch) if (!answered.has(p)) p.refused(err);
        },
      );
  }
}
