/**
 * Dispatch: the only module that runs tasks on Piscina. It starts the pool
 * on the first task (importing the package starts no thread) and holds tasks
 * until its first thread runs; it runs each task under the watchdog
 * (`watchdog.ts`), with its results (`task-results.ts`) and its commands (the
 * pool's spawn helper, `helper-host.ts`), hands a task whose thread ended to
 * `recovery.ts`, and counts and logs each dispatch (`accounting.ts`).
 */
import { performance } from 'node:perf_hooks';
import type { Piscina } from 'piscina';
import { z } from 'zod';
import { AuthProbeError } from '../errors.js';
import { readsProcessEnv, type ResolvedOptions } from '../config/options.js';
import { DepsResultSchema, type DepState, type DepsTask, type ProviderResult } from '../config/schema.js';
import { Accounting, type DispatchCounters } from './accounting.js';
import { hasCommandProbe, HelperHost } from './helper-host.js';
import { budgetInUse, createCommandBudget } from '../probes/command-budget.js';
import { commandStopper, killCommands } from './processes.js';
import { recover, type RecoveryContext } from './recovery.js';
import { probeTask, type DispatchRequest } from './request.js';
import { TaskResults, type OnResult, type ResultsContext } from './task-results.js';
import { DepsLists } from '../config/check-result.js';
import { createControl, culprit, taskThread } from './watchdog.js';
import { createWorkerPool, endOverdueThread, firstThreadOnline } from './worker-pool.js';
import type { Slices } from '../slices.js';
import { EnvEpochs } from './env-epochs.js';

/** A verify pass's states, 256 a task, validated compiled on this thread (see `CompiledCheckResultSchema`). */
const CompiledDepsResultSchema = z.compile(DepsResultSchema);

export type { DispatchRequest } from './request.js';

export class Dispatcher {
  readonly counters: DispatchCounters;
  #piscina: Piscina | undefined;
  /** Until the pool's first worker thread runs: what tasks wait for (see `#pool`). */
  #starting: Promise<void> | undefined;
  #closed = false;
  readonly #running = new Set<Promise<ProviderResult[]>>();
  /** Watchdog cells of the tasks in flight: where their workers say which command they spawned runs now. */
  readonly #controls = new Set<SharedArrayBuffer>();
  /** The pool's spawn helper, with `spawnVia: 'helper'`: the main thread's, so that it outlives the threads. */
  readonly #helper: HelperHost | undefined;
  /** The CLIs the pool's threads may run at once, shared by all of them (see `probes/command-budget.ts`). */
  readonly #commandBudget: SharedArrayBuffer;
  readonly #options: ResolvedOptions;
  /** What a task's results and its recovery need of the dispatcher. */
  readonly #context: ResultsContext & RecoveryContext;
  readonly #slices: Slices;
  /** The environment tasks are sent with, taken once per epoch. */
  readonly #env: EnvEpochs;

  /** `slices`: where results are taken, a slice of a turn at a time (see `slices.ts`). */
  constructor(options: ResolvedOptions, slices: Slices) {
    this.#slices = slices;
    this.#env = new EnvEpochs(readsProcessEnv(options) ? undefined : options.env);
    this.#options = options;
    this.#helper = options.spawnVia === 'helper' ? new HelperHost(options) : undefined;
    this.#commandBudget = createCommandBudget(options.maxConcurrentCommands);
    const accounting = new Accounting(options);
    this.counters = accounting.counters;
    this.#context = {
      accounting,
      slices,
      deps: new DepsLists(),
      logger: options.logger,
      closed: () => this.#closed,
      dispatch: (providers, req, onResult) => this.dispatch(providers, req, onResult),
    };
  }

  /** Tasks sent from now on see the environment as it is now (see `env-epochs.ts`). */
  renewEnv(): void {
    this.#env.renew();
  }

  /** The tasks about to be sent look up this many variables (their env probes), spread over the threads (see `EnvEpochs.expect`). */
  expectEnvReads(lookups: number): void {
    this.#env.expect(Math.ceil(lookups / this.#options.maxThreads));
  }

  get piscina(): Piscina | undefined {
    return this.#piscina;
  }

  /** Slots of the command budget held now, and the most held at once so far. */
  get commands(): { running: number; peak: number } {
    return budgetInUse(this.#commandBudget);
  }

  #pool(): Piscina {
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    if (this.#piscina) return this.#piscina;
    const pool = createWorkerPool(this.#options, this.#commandBudget);
    this.#piscina = pool;
    // Tasks wait until the first worker thread runs ('online', some 20 ms on): Piscina starts a thread for each task
    // that would queue, so a first sweep sent at once started every thread in the checks' own tick, which then took
    // 10-14 ms on 2 cores, the new threads' start-ups taking the CPU from it. Now that tick starts one thread (4-5 ms);
    // the tasks, and the threads Piscina adds for them, follow once it runs. It could not have run them sooner.
    this.#starting = firstThreadOnline(pool)?.then(() => {
      this.#starting = undefined;
      // With its first worker, so that the first command probe does not wait for the helper's start-up.
      if (!this.#closed && hasCommandProbe(this.#options.probes)) this.#helper?.start();
    });
    return pool;
  }

  /**
   * Runs the providers' probes in one task. `onResult` receives each provider's result (by its index in
   * `providers`) once: all together when the task completes, or, when a probe hangs past its deadline or kills
   * the worker, those the worker had streamed at once, before the rest run again. Rejects only with
   * `E_POOL_CLOSED`: nothing here bounds the tasks (see `maxQueue`, which the answer book enforces).
   */
  dispatch(providers: readonly string[], req: DispatchRequest, onResult?: OnResult): Promise<ProviderResult[]> {
    let running: Promise<ProviderResult[]>;
    try {
      const pool = this.#pool();
      running = this.#starting
        ? this.#starting.then(() => (this.#closed ? Promise.reject(new AuthProbeError('E_POOL_CLOSED')) : this.#runTask(pool, providers, req, onResult)))
        : this.#runTask(pool, providers, req, onResult);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#running.add(running);
    const forget = () => this.#running.delete(running);
    running.then(forget, forget);
    return running;
  }

  async #runTask(pool: Piscina, providers: readonly string[], req: DispatchRequest, onResult?: OnResult): Promise<ProviderResult[]> {
    const control = createControl(providers.length);
    this.#controls.add(control);
    const watch = endOverdueThread(pool, control);
    const results = new TaskResults(providers, req, this.#context, onResult);
    // The worker's commands, run in the pool's helper; their answers go back on the task's port.
    const commands = this.#helper?.session((answer) => results.post(answer));
    results.listen(commands);
    const started = performance.now();
    this.counters.tasks++;
    let raw: unknown;
    try {
      raw = await pool.run(probeTask(providers, req, control, results.port, this.#env.current()), { transferList: [results.port] as never });
    } catch (err) {
      // Commands the ended worker was running would outlive it.
      killCommands(control);
      commands?.end();
      await results.drain();
      if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED', undefined, { cause: err });
      this.#context.accounting.dispatched(results, taskThread(control), started);
      const overdue = watch.overdue();
      return recover({ providers, req, results, err, position: overdue ?? culprit(control), timedOut: overdue !== undefined }, this.#context);
    } finally {
      watch.stop();
      commands?.end();
      this.#controls.delete(control);
    }
    results.takeQueued();
    results.takeReturned(raw);
    results.close();
    // A force-close cut the task off, and let it finish only so that its worker could reap the CLIs it killed.
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    // After the results it streamed and returned, which wait in the slices' order: then none is checked twice.
    const all = await this.#slices.submit(() => results.complete(raw));
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    this.#context.accounting.dispatched(results, taskThread(control), started);
    return all;
  }

  /**
   * The state of followed dependencies now, read by a worker (see `probes/dep-states.ts`): what the watcher compares
   * with what the answers recorded. The main thread stats nothing; a database written on every message costs one
   * read per check, not a re-probe.
   */
  async readDependencies(task: DepsTask): Promise<readonly DepState[]> {
    const pool = this.#pool();
    if (this.#starting) await this.#starting;
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    // Validated as it is (the reply is this thread's own copy): a parse copied 256 states again, most of what a verify
    // pass allocated here.
    const result: unknown = await pool.run(task);
    if (!CompiledDepsResultSchema.validate(result) || result.states.length !== task.deps.length) throw new AuthProbeError('E_BAD_WORKER_RESULT', 'dependency states');
    return result.states;
  }

  /**
   * Ends every worker. Without `force`, tasks already dispatched (and their
   * re-runs) finish first: Piscina's own close would drop tasks still queued.
   * With `force`, queued and running tasks are aborted and reject with
   * `E_POOL_CLOSED`, and the commands they are running are killed. Either
   * way the spawn helper is stopped, and no task or helper outlives this
   * promise.
   */
  async close(force: boolean): Promise<void> {
    if (this.#closed) return;
    if (!force) {
      // Let checks made before close() reach dispatch (their batch flushes on a microtask).
      await new Promise((resolve) => setImmediate(resolve));
      while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    }
    this.#closed = true;
    // Ending a worker thread does not end the processes it started (see processes.ts).
    const commands = commandStopper(force ? [...this.#controls] : []);
    await commands.before();
    const helper = this.#helper?.stop(force);
    const pool = this.#piscina;
    if (pool) await pool.destroy();
    commands.after();
    await helper;
  }
}
