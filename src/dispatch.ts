/**
 * Dispatch: the only module that talks to Piscina. It starts the pool on the
 * first task (importing the package starts no thread), watches each task's
 * probe deadlines, turns a hung or crashed worker into error results for the
 * provider it was on (and re-runs the rest of that batch), validates what
 * workers return, and logs each dispatch.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AuthProbeError, errorData, errorName, type ErrorCode } from './errors.js';
import { workerInitOf, type ResolvedOptions } from './options.js';
import type { ProbeKind, ProbeSkip, ProbeTask, ProviderResult } from './schema.js';
import { ProviderResultSchema, TaskResultSchema } from './schema.js';
import { createControl, currentPosition, runningCommand, watchTask } from './watchdog.js';

/** The compiled worker entry, next to this file's compiled form: `dist/src/` → `dist/workers/`. */
const WORKER_FILE = fileURLToPath(new URL('../workers/probe-worker.js', import.meta.url));

export interface DispatchRequest {
  readonly modelApi?: string | undefined;
  readonly scope: ProbeTask['scope'];
  readonly env: Readonly<Record<string, string>>;
  readonly mode: ProbeTask['mode'];
  /** Probes to report as failed rather than run, after they hung or killed a worker. */
  readonly skip?: ProbeTask['skip'];
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
    probesByKind: { env: 0, authProfiles: 0, credentialFile: 0, command: 0, module: 0 },
  };
  #piscina: Piscina | undefined;
  /** Until the pool's first worker thread runs: what tasks wait for (see `#pool`). */
  #starting: Promise<void> | undefined;
  #closed = false;
  readonly #running = new Set<Promise<ProviderResult[]>>();
  /** Watchdog cells of the tasks in flight: where their workers say which command (and helper) runs now. */
  readonly #controls = new Set<SharedArrayBuffer>();
  readonly #options: ResolvedOptions;

  constructor(options: ResolvedOptions) {
    this.#options = options;
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
  run(providers: readonly string[], req: DispatchRequest, onResult?: (index: number, result: ProviderResult) => void): Promise<ProviderResult[]> {
    let running: Promise<ProviderResult[]>;
    try {
      const pool = this.#pool();
      running = this.#starting
        ? this.#starting.then(() => (this.#closed ? Promise.reject(new AuthProbeError('E_POOL_CLOSED')) : this.#run(pool, providers, req, onResult)))
        : this.#run(pool, providers, req, onResult);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#running.add(running);
    const forget = () => this.#running.delete(running);
    running.then(forget, forget);
    return running;
  }

  async #run(pool: Piscina, providers: readonly string[], req: DispatchRequest, onResult?: (index: number, result: ProviderResult) => void): Promise<ProviderResult[]> {
    const control = createControl();
    this.#controls.add(control);
    const abort = new AbortController();
    let overdue = false;
    const unwatch = watchTask(control, () => {
      overdue = true;
      abort.abort();
    });
    // Results streamed by the worker, by provider index: what a task cut off at a deadline, or whose worker died, had
    // done. They are delivered then; a task that completes delivers its answers together, as its result.
    const streamed = new Map<number, ProviderResult>();
    const answered = new Map<number, ProviderResult>();
    const deliver = (index: number, result: ProviderResult) => {
      if (answered.has(index)) return;
      answered.set(index, result);
      onResult?.(index, result);
    };
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (message: unknown) => {
      const { index, result } = (message ?? {}) as { index?: unknown; result?: unknown };
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= providers.length || answered.has(index)) return;
      const one = this.#validateOne(providers[index] as string, result);
      // A malformed one waits for the task's own result (or its recovery), which decides it.
      if (one.ok) streamed.set(index, one.result);
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
      raw = await pool.run(task, { signal: abort.signal, transferList: [port2] as never });
    } catch (err) {
      // A command the ended worker was running would outlive it.
      killProcess(-runningCommand(control).pid);
      // Let results the worker posted just before it ended arrive.
      await new Promise((resolve) => setImmediate(resolve));
      port1.close();
      if (this.#closed) throw new AuthProbeError('E_POOL_CLOSED', undefined, { cause: err });
      if (err instanceof Error && err.message === 'Task queue is at limit') throw new AuthProbeError('E_QUEUE_FULL', `${this.#options.maxQueue} tasks waiting`);
      for (const [i, result] of streamed) deliver(i, result);
      this.#record([...answered], performance.now() - started, req.skip);
      return this.#recover(providers, req, currentPosition(control), overdue, err, answered, deliver);
    } finally {
      unwatch();
      this.#controls.delete(control);
    }
    port1.close();
    const results = this.#validate(providers, raw, streamed);
    results.forEach((result, i) => deliver(i, result));
    this.#record(results.map((r, i) => [i, r] as const), performance.now() - started, req.skip);
    return results;
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
   * A task was aborted at its deadline, or its worker died, while a probe ran.
   * Providers the worker had answered keep their results. That probe is
   * reported with the error and not run again; the providers not yet answered
   * run again without it, so the provider's other probes still decide (a hung
   * keychain lookup does not hide a valid credential file) and the batch's
   * other providers get their answers. Each recovery adds a skip, so this
   * ends. A worker that died outside any probe, or on a probe already
   * skipped, fails the providers not yet answered instead.
   */
  async #recover(
    providers: readonly string[],
    req: DispatchRequest,
    position: { running: boolean; provider: number; probe: number },
    timedOut: boolean,
    err: unknown,
    answered: ReadonlyMap<number, ProviderResult>,
    deliver: (index: number, result: ProviderResult) => void,
  ): Promise<ProviderResult[]> {
    const code: ErrorCode = timedOut ? 'E_PROBE_TIMEOUT' : 'E_WORKER_CRASHED';
    if (timedOut) this.counters.timeouts++;
    else this.counters.crashes++;
    const culprit = answered.has(position.provider) ? undefined : providers[position.provider];
    const known = culprit === undefined ? undefined : (req.skip?.[position.provider] ?? []);
    // Its name only: a worker may die of a module probe's own error (a rejection left behind), whose message may quote a secret.
    const reason = errorName(err);
    const rest = providers.map((_, i) => i).filter((i) => !answered.has(i));
    if (!position.running || culprit === undefined || known === undefined || known.some((s) => s.position === position.probe)) {
      this.#options.logger.error({ providers: rest.length, code, reason }, 'worker died outside a probe');
      return providers.map((p, i) => {
        const done = answered.get(i);
        if (done) return done;
        const failed = failure(p, code);
        deliver(i, failed);
        return failed;
      });
    }
    this.#options.logger.error(
      { provider: culprit, probe: position.probe + 1, code, reason },
      timedOut ? 'probe ran past its deadline; worker terminated' : 'worker died while probing',
    );
    const skip = { position: position.probe, error: errorData(code, `probe #${position.probe + 1}${timedOut ? ' ran past its deadline' : ' ended its worker'}`) };
    const again = subRequest({ ...req, skip: { ...req.skip, [position.provider]: [...known, skip] } }, rest);
    const results = await this.run(
      rest.map((i) => providers[i] as string),
      again,
      (j, result) => deliver(rest[j] as number, result),
    );
    return providers.map((_, i) => answered.get(i) ?? (results[rest.indexOf(i)] as ProviderResult));
  }

  #record(results: readonly (readonly [number, ProviderResult])[], durationMs: number, skip: DispatchRequest['skip']): void {
    const { logger, slowProbeMs } = this.#options;
    let probes = 0;
    for (const [i, r] of results) {
      probes += r.probes.length;
      for (const p of r.probes) {
        this.counters.probesByKind[p.kind]++;
        // A timeout the worker enforced itself (a command killed at its timeoutMs); one the watchdog enforced was
        // counted in #recover, and comes back here as a skipped probe.
        if (p.error?.code === 'E_PROBE_TIMEOUT' && !skip?.[i]?.some((s) => s.position === p.position)) this.counters.timeouts++;
        if (p.durationMs >= slowProbeMs) {
          logger.warn(
            { provider: r.provider, probe: p.kind, index: p.index, source: p.source, durationMs: Math.round(p.durationMs), outcome: p.outcome, ...(p.error ? { code: p.error.code } : {}) },
            'slow auth probe',
          );
        }
      }
    }
    this.counters.providersProbed += results.length;
    this.counters.probesRun += probes;
    logger.debug({ providers: results.length, probes, durationMs: Math.round(durationMs * 100) / 100 }, 'dispatch');
  }

  /**
   * Ends every worker. Without `force`, tasks already dispatched (and their
   * re-runs) finish first: Piscina's own close would drop tasks still queued.
   * With `force`, queued and running tasks are aborted and reject with
   * `E_POOL_CLOSED`, and the commands they are running (and their spawn
   * helpers) are killed. Either way no task outlives this promise.
   */
  async close(force: boolean): Promise<void> {
    if (this.#closed) return;
    if (!force) {
      // Let checks made before close() reach dispatch (their batch flushes on a microtask).
      await new Promise((resolve) => setImmediate(resolve));
      while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    }
    this.#closed = true;
    // Ending a worker thread does not end the processes it started: kill the commands running now, and their helpers.
    if (force) {
      for (const control of this.#controls) {
        const { pid, helperPid } = runningCommand(control);
        killProcess(-pid);
        killProcess(helperPid);
      }
    }
    const pool = this.#piscina;
    if (pool) await pool.destroy();
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

/** SIGKILL to a pid (a negative one: its process group), if there is one; gone already is fine. */
function killProcess(pid: number): void {
  if (pid === 0 || process.platform === 'win32') return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ESRCH: it ended meanwhile.
  }
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
