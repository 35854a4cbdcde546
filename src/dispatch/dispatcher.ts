/**
 * Dispatch: the only module that talks to Piscina. It starts the pool on the
 * first task (importing the package starts no thread), watches each task's
 * probe deadlines, turns a hung or crashed worker into error results for the
 * provider it was on (and re-runs the rest of that batch, and of the other
 * tasks that shared the thread), validates what workers return, delivers
 * each provider's result as the worker streams it, passes the commands a
 * worker asks for to the pool's spawn helper (`helper-host.ts`), and logs
 * each dispatch.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AuthProbeError, errorData, errorName, type ErrorCode } from '../errors.js';
import { hasCommandProbe, HelperHost } from './helper-host.js';
import { workerInitOf, type ResolvedOptions } from '../config/options.js';
import type { ProbeKind, ProbeSkip, ProbeTask, ProviderResult } from '../config/schema.js';
import { ProviderResultSchema, RowsResultSchema, TaskResultSchema, type RowsTask } from '../config/schema.js';
import { commandStopper, killCommands } from './processes.js';
import { createControl, culprit, taskThread, watchTask, type ProbePosition } from './watchdog.js';

/** The compiled worker entry, next to this file's compiled form: `dist/src/` → `dist/workers/`. */
const WORKER_FILE = fileURLToPath(new URL('../../workers/probe-worker.js', import.meta.url));

/**
 * Tasks one worker runs at once. A task waiting for its CLIs leaves the thread idle, so a worker takes more
 * tasks meanwhile (their other probes share the thread's lane): a check of a new provider never waits behind
 * a batch's hung CLI.
 */
const TASKS_PER_WORKER = 8;

/** Times a task is run again after its thread ended for another task's probe (or for no probe at all). */
const MAX_COLLATERAL_RUNS = 2;

type LoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;

/**
 * Piscina's default balancer hands a task to any worker with room, and Piscina adds a thread only when none has
 * any, so with several tasks per worker a second thread would start only once the first had TASKS_PER_WORKER.
 * This one starts a thread while there are fewer than `maxThreads` and every one is busy, then picks the least busy.
 */
function spreadBalancer(maxThreads: number): LoadBalancer {
  return (_task, workers) => {
    let best: (typeof workers)[number] | null = null;
    for (const worker of workers) {
      if (worker.currentUsage === 0) return worker;
      if (worker.currentUsage < TASKS_PER_WORKER && (best === null || worker.currentUsage < best.currentUsage)) best = worker;
    }
    return workers.length < maxThreads ? null : best;
  };
}

export interface DispatchRequest {
  readonly modelApi?: string | undefined;
  readonly scope: ProbeTask['scope'];
  readonly env: Readonly<Record<string, string>>;
  readonly mode: ProbeTask['mode'];
  /** Probes to report as failed rather than run, after they hung or killed a worker. */
  readonly skip?: ProbeTask['skip'];
  /** Runs of these providers that ended with their thread for another task's probe (see MAX_COLLATERAL_RUNS). */
  readonly collateral?: number;
  /** Plan positions to run, by provider (the rest of its plan is not run). */
  readonly only?: ProbeTask['only'];
  /** Several scopes in one task, and each provider's index into them. */
  readonly scopes?: ProbeTask['scopes'];
  readonly scopeIndex?: ProbeTask['scopeIndex'];
}

export interface DispatchCounters {
  tasks: number;
  providersProbed: number;
  probesRun: number;
  timeouts: number;
  crashes: number;
  /** Tasks run again because their thread ended for another task's probe. */
  collateralRuns: number;
  /** Probes run, by kind. */
  readonly probesByKind: Record<ProbeKind, number>;
}

export class Dispatcher {
  readonly counters: DispatchCounters = {
    tasks: 0,
    providersProbed: 0,
    probesRun: 0,
    timeouts: 0,
    crashes: 0,
    collateralRuns: 0,
    probesByKind: { env: 0, authProfiles: 0, openclawStore: 0, credentialFile: 0, command: 0, module: 0 },
  };
  #piscina: Piscina | undefined;
  /** Until the pool's first worker thread runs: what tasks wait for (see `#pool`). */
  #starting: Promise<void> | undefined;
  #closed = false;
  readonly #running = new Set<Promise<ProviderResult[]>>();
  /** Watchdog cells of the tasks in flight: where their workers say which command they spawned runs now. */
  readonly #controls = new Set<SharedArrayBuffer>();
  /** The pool's spawn helper, with `spawnVia: 'helper'`: the main thread's, so that it outlives the threads. */
  readonly #helper: HelperHost | undefined;
  readonly #options: ResolvedOptions;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#helper = options.spawnVia === 'helper' ? new HelperHost(options) : undefined;
  }

  get piscina(): Piscina | undefined {
    return this.#piscina;
  }

  #pool(): Piscina {
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    if (this.#piscina) return this.#piscina;
    const o = this.#options;
    const pool = new Piscina({
      filename: WORKER_FILE,
      minThreads: o.minThreads,
      maxThreads: o.maxThreads,
      idleTimeout: o.idleTimeoutMs,
      maxQueue: o.maxQueue,
      concurrentTasksPerWorker: TASKS_PER_WORKER,
      loadBalancer: spreadBalancer(o.maxThreads),
      niceIncrement: o.niceIncrement,
      resourceLimits: { maxOldGenerationSizeMb: o.maxWorkerMemoryMb },
      workerData: workerInitOf(o),
      recordTiming: true,
    });
    if (o.niceIncrement > 0 && !niceAvailable()) {
      o.logger.warn({ niceIncrement: o.niceIncrement }, 'niceIncrement has no effect: the optional @napi-rs/nice package Piscina uses for it is not installed');
    }
    pool.on('error', (err: unknown) => {
      // Reduced to its name: what a worker dies of may be a probe's own error, message and all.
      o.logger.error({ err: errorName(err) }, 'worker pool error');
    });
    this.#piscina = pool;
    // Tasks wait until the first worker thread runs ('online', some 20 ms on): Piscina starts a thread for each task
    // that would queue, so a first sweep sent at once started every thread in the checks' own tick, which then took
    // 10-14 ms on 2 cores, the new threads' start-ups taking the CPU from it. Now that tick starts one thread (4-5 ms);
    // the tasks, and the threads Piscina adds for them, follow once it runs. It could not have run them sooner.
    const first = pool.threads[0];
    if (first) {
      this.#starting = new Promise<void>((resolve) => {
        first.once('online', resolve);
        first.once('exit', resolve);
      }).then(() => {
        this.#starting = undefined;
        // With its first worker, so that the first command probe does not wait for the helper's start-up.
        if (!this.#closed && hasCommandProbe(o.probes)) this.#helper?.start();
      });
    }
    return pool;
  }

  /**
   * Runs the providers' probes in one task. `onResult` receives each provider's result (by its index in
   * `providers`) once: all together when the task completes, or, when a probe hangs past its deadline or kills
   * the worker, those the worker had streamed at once, before the rest run again. Rejects only with
   * `E_POOL_CLOSED` or `E_QUEUE_FULL`.
   */
  dispatch(providers: readonly string[], req: DispatchRequest, onResult?: (index: number, result: ProviderResult) => void): Promise<ProviderResult[]> {
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

  async #runTask(pool: Piscina, providers: readonly string[], req: DispatchRequest, onResult?: (index: number, result: ProviderResult) => void): Promise<ProviderResult[]> {
    const control = createControl(providers.length);
    this.#controls.add(control);
    let overdue: ProbePosition | undefined;
    const unwatch = watchTask(control, (position) => {
      overdue = position;
      // Ends the thread (Piscina replaces it): the only way to stop a probe that blocks it. The other tasks it
      // was running fail with it, and run again (see #recover).
      void pool.threads.find((t) => t.threadId === taskThread(control))?.terminate();
    });
    const answered = new Map<number, ProviderResult>();
    // A result of a re-run (see #recover), which accounted for it.
    const forward = (index: number, result: ProviderResult) => {
      if (answered.has(index)) return;
      answered.set(index, result);
      onResult?.(index, result);
    };
    let probes = 0;
    const deliver = (index: number, result: ProviderResult) => {
      if (answered.has(index)) return;
      // Counted and logged as it is answered, so stats() and the logs already show it when its check resolves.
      probes += this.#account(result, req.skip?.[index]);
      forward(index, result);
    };
    // Each provider's result as the worker streams it, answered at once: a batch's slow CLI holds back no other provider.
    const { port1, port2 } = new MessageChannel();
    // The worker's commands, run in the pool's helper; their answers go back on the same port.
    const commands = this.#helper?.session((answer) => port1.postMessage(answer));
    port1.on('message', (message: unknown) => {
      if (commands?.accept(message)) return;
      const { index, result } = (message ?? {}) as { index?: unknown; result?: unknown };
      // A force-close cut the task off (its CLIs killed): it rejects with E_POOL_CLOSED, whatever it still posts.
      if (this.#closed) return;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= providers.length || answered.has(index)) return;
      const one = this.#validateOne(providers[index] as string, result);
      // A malformed one waits for the task's own result (or its recovery), which decides it.
      if (one.ok) deliver(index, one.result);
    });
    const task: ProbeTask = {
      providers,
      scope: req.scope,
      env: req.env,
      mode: req.mode,
      control,
      port: port2,
      ...(req.modelApi !== undefined ? { modelApi: req.modelApi } : {}),
      ...(req.skip !== undefined ? { skip: req.skip } : {}),
      ...(req.only !== undefined ? { only: req.only } : {}),
      ...(req.scopes !== undefined ? { scopes: req.scopes, scopeIndex: req.scopeIndex } : {}),
    };
    const started = performance.now();
    this.counters.tasks++;
    let raw: unknown;
    try {
      raw = await pool.run(task, { transferList: [port2] as never });
    } catch (err) {
      // Commands the ended worker was running would outlive it.
      killCommands(control);
      commands?.end();
      // Let results the worker posted just before it ended arrive.
      await new Promise((resolve) => setImmediate(resolve));
      port1.close();
      if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED', undefined, { cause: err });
      if (err instanceof Error && err.message === 'Task queue is at limit') throw new AuthProbeError('E_QUEUE_FULL', `${this.#options.maxQueue} tasks waiting`);
      this.#logDispatch(answered.size, probes, started);
      return this.#recover(providers, req, overdue ?? culprit(control), overdue !== undefined, err, answered, deliver, forward);
    } finally {
      unwatch();
      commands?.end();
      this.#controls.delete(control);
    }
    port1.close();
    // A force-close cut the task off, and let it finish only so that its worker could reap the CLIs it killed.
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    const results = this.#validate(providers, raw, answered);
    results.forEach((result, i) => deliver(i, result));
    this.#logDispatch(results.length, probes, started);
    return results;
  }

  /**
   * The fingerprints of SQLite rows dependencies now (see `fingerprint.ts`), read by a worker: what the watcher
   * compares with those recorded, so a database written on every message costs one read per check, not a re-probe.
   */
  async fingerprintRows(keys: readonly string[]): Promise<readonly string[]> {
    const pool = this.#pool();
    if (this.#starting) await this.#starting;
    if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED');
    const task: RowsTask = { rows: keys };
    const parsed = RowsResultSchema.safeParse(await pool.run(task));
    if (!parsed.success || parsed.data.fingerprints.length !== keys.length) throw new AuthProbeError('E_BAD_WORKER_RESULT', 'rows fingerprints');
    return parsed.data.fingerprints;
  }

  #validateOne(provider: string, raw: unknown): { ok: true; result: ProviderResult } | { ok: false; fields: string[] } {
    const one = ProviderResultSchema.safeParse(raw);
    if (one.success && one.data.provider === provider) return { ok: true, result: one.data };
    return { ok: false, fields: one.success ? ['provider'] : [...new Set(one.error.issues.map((x) => x.path.join('.')))].slice(0, 5) };
  }

  /**
   * Each provider's result checked on its own: a malformed one fails that provider only, never its batch. One the
   * worker streamed, and that was checked then, is the same result: it is not parsed twice.
   */
  #validate(providers: readonly string[], raw: unknown, checked: ReadonlyMap<number, ProviderResult>): ProviderResult[] {
    // Every provider was answered as it was streamed (the usual case): nothing left to check.
    if (checked.size === providers.length) return providers.map((_, i) => checked.get(i) as ProviderResult);
    const parsed = TaskResultSchema.safeParse(raw);
    if (!parsed.success || parsed.data.results.length !== providers.length) {
      this.#options.logger.error({ providers: providers.length }, 'worker returned a malformed result');
      return providers.map((p) => failure(p, 'E_BAD_WORKER_RESULT'));
    }
    return providers.map((provider, i) => {
      const known = checked.get(i);
      if (known) return known;
      const one = this.#validateOne(provider, parsed.data.results[i]);
      if (one.ok) return one.result;
      this.#options.logger.error({ provider, fields: one.fields }, 'worker returned a malformed result');
      return failure(provider, 'E_BAD_WORKER_RESULT');
    });
  }

  /**
   * A task's worker ended while the task ran: a probe of it ran past its deadline (`timedOut`, and the watchdog
   * ended the thread), or the thread died. Providers the worker had answered keep their results. When a probe of
   * this task is to blame (`position`), it is reported with the error and not run again; the providers not yet
   * answered run again without it, so the provider's other probes still decide (a hung keychain lookup does not
   * hide a valid credential file) and the batch's other providers get their answers. Each such recovery adds a
   * skip, so this ends. A task that only shared the thread with the culprit runs again as it was, at most
   * MAX_COLLATERAL_RUNS times; past that, or when the blamed probe was already skipped, the providers not yet
   * answered fail with the error.
   */
  async #recover(
    providers: readonly string[],
    req: DispatchRequest,
    position: ProbePosition | undefined,
    timedOut: boolean,
    err: unknown,
    answered: ReadonlyMap<number, ProviderResult>,
    deliver: (index: number, result: ProviderResult) => void,
    forward: (index: number, result: ProviderResult) => void,
  ): Promise<ProviderResult[]> {
    const code: ErrorCode = timedOut ? 'E_PROBE_TIMEOUT' : 'E_WORKER_CRASHED';
    // Its name only: a worker may die of a module probe's own error (a rejection left behind), whose message may quote a secret.
    const reason = errorName(err);
    const rest = providers.map((_, i) => i).filter((i) => !answered.has(i));
    const again = (next: DispatchRequest) =>
      this.dispatch(
        rest.map((i) => providers[i] as string),
        subRequest(next, rest),
        (j, result) => forward(rest[j] as number, result),
      ).then((results) => providers.map((_, i) => answered.get(i) ?? (results[rest.indexOf(i)] as ProviderResult)));
    const blamed = position === undefined || answered.has(position.provider) ? undefined : position;
    if (blamed === undefined) {
      const runs = (req.collateral ?? 0) + 1;
      if (rest.length > 0 && runs <= MAX_COLLATERAL_RUNS) {
        this.counters.collateralRuns++;
        this.#options.logger.warn({ providers: rest.length, reason }, 'worker ended for another task; its providers run again');
        return again({ ...req, collateral: runs });
      }
    }
    if (timedOut) this.counters.timeouts++;
    else this.counters.crashes++;
    const known = blamed === undefined ? undefined : (req.skip?.[blamed.provider] ?? []);
    if (blamed === undefined || known === undefined || known.some((s) => s.position === blamed.probe)) {
      if (rest.length > 0) this.#options.logger.error({ providers: rest.length, code, reason }, 'worker died outside a probe');
      return providers.map((p, i) => {
        const done = answered.get(i);
        if (done) return done;
        const failed = failure(p, code);
        deliver(i, failed);
        return failed;
      });
    }
    this.#options.logger.error(
      { provider: providers[blamed.provider], probe: blamed.probe + 1, code, reason },
      timedOut ? 'probe ran past its deadline; worker terminated' : 'worker died while probing',
    );
    const skip = { position: blamed.probe, error: errorData(code, `probe #${blamed.probe + 1}${timedOut ? ' ran past its deadline' : ' ended its worker'}`) };
    return again({ ...req, skip: { ...req.skip, [blamed.provider]: [...known, skip] } });
  }

  /** Counts a provider's result in the stats, and logs its slow probes; returns how many probes it ran. */
  #account(r: ProviderResult, skipped: readonly ProbeSkip[] | undefined): number {
    const { logger, slowProbeMs } = this.#options;
    for (const p of r.probes) {
      this.counters.probesByKind[p.kind]++;
      // A timeout the worker enforced itself (a command killed at its timeoutMs); one the watchdog enforced was
      // counted in #recover, and comes back here as a skipped probe.
      if (p.error?.code === 'E_PROBE_TIMEOUT' && !skipped?.some((s) => s.position === p.position)) this.counters.timeouts++;
      if (p.durationMs >= slowProbeMs) {
        logger.warn(
          { provider: r.provider, probe: p.kind, index: p.index, source: p.source, durationMs: Math.round(p.durationMs), outcome: p.outcome, ...(p.error ? { code: p.error.code } : {}) },
          'slow auth probe',
        );
      }
    }
    this.counters.providersProbed++;
    this.counters.probesRun += r.probes.length;
    return r.probes.length;
  }

  #logDispatch(providers: number, probes: number, started: number): void {
    this.#options.logger.debug({ providers, probes, durationMs: Math.round((performance.now() - started) * 100) / 100 }, 'dispatch');
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

/** The request for a re-run of some of a task's providers (`keep`, their indices in it): per-provider fields renumbered. */
function subRequest(req: DispatchRequest, keep: readonly number[]): DispatchRequest {
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

function failure(provider: string, code: ErrorCode, detail?: string): ProviderResult {
  return { provider, auth: false, decidedBy: null, probes: [], durationMs: 0, error: errorData(code, detail) };
}

/** Whether Piscina can apply `niceIncrement`: it loads the optional `@napi-rs/nice` from its own location. */
function niceAvailable(): boolean {
  try {
    const fromPiscina = createRequire(createRequire(import.meta.url).resolve('piscina'));
    fromPiscina.resolve('@napi-rs/nice');
    return true;
  } catch {
    return false;
  }
}
