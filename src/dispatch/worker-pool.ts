/**
 * The Piscina pool tasks run on: the compiled worker entry, its threads'
 * bounds, niceness and heap limit, how tasks are spread over them
 * (`balancer.ts`), the command budget its threads share, its errors, logged
 * without their messages, and the end of a thread whose lane probe ran past
 * its deadline.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { SHARE_ENV } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { errorName } from '../errors.js';
import { readsProcessEnv, workerInitOf, type ResolvedOptions } from '../config/options.js';
import { releaseThread } from '../probes/command-budget.js';
import { spreadBalancer, TASKS_PER_WORKER } from './balancer.js';
import { taskThread, watchTask, type ProbePosition } from './watchdog.js';

/** The compiled worker entry, next to this file's compiled form: `dist/src/` → `dist/workers/`. */
const WORKER_FILE = fileURLToPath(new URL('../../workers/probe-worker.js', import.meta.url));

/** Each worker's young generation, in MiB (V8's default for a thread is larger). */
export const WORKER_YOUNG_GENERATION_MB = 16;

/** A Piscina pool for the options, whose threads share `commandBudget` (see `probes/command-budget.ts`); it starts `minThreads` threads at once. */
export function createWorkerPool(o: ResolvedOptions, commandBudget: SharedArrayBuffer): Piscina {
  const pool = new Piscina({
    filename: WORKER_FILE,
    minThreads: o.minThreads,
    maxThreads: o.maxThreads,
    idleTimeout: o.idleTimeoutMs,
    // No maxQueue: Piscina's task queue stays unbounded (its default). `maxQueue` counts answers with a run under
    // way, and the answer book enforces it; a second limit here, on tasks, refused the tasks of a warm the book
    // had let through.
    concurrentTasksPerWorker: TASKS_PER_WORKER,
    loadBalancer: spreadBalancer(o.maxThreads),
    niceIncrement: o.niceIncrement,
    // A young generation of 16 MiB: a sweep's results are short-lived garbage, and with 4 MiB a worker spent 40 % more
    // of a 1,000-agent sweep in scavenges (203 ms against 122 ms). A thread's RSS is 3-4 MiB higher for it.
    resourceLimits: { maxOldGenerationSizeMb: o.maxWorkerMemoryMb, maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    workerData: workerInitOf(o, commandBudget),
    // With the default `env`, the workers read the gateway's process.env themselves, off its loop (see `probes/task-env.ts`).
    ...(readsProcessEnv(o) ? { env: SHARE_ENV } : {}),
    recordTiming: true,
  });
  if (o.niceIncrement > 0 && !niceAvailable()) {
    o.logger.warn({ niceIncrement: o.niceIncrement }, 'niceIncrement has no effect: the optional @napi-rs/nice package Piscina uses for it is not installed');
  }
  pool.on('error', (err: unknown) => {
    // Reduced to its name: what a worker dies of may be a probe's own error, message and all.
    o.logger.error({ err: errorName(err) }, 'worker pool error');
  });
  pool.on('workerCreate', (worker: { readonly id: number }) => {
    // Read now: it is the thread's `threadId`, which reads -1 once the thread has ended.
    const threadId = worker.id;
    // A thread ended while its CLIs held slots (terminated at a lane probe's deadline, crashed) cannot give them back:
    // the main thread does, once the thread is gone. Not at once: Piscina's own 'exit' listener has just failed the
    // thread's tasks, whose handlers (in the microtasks that follow) kill the CLIs they were running; the slots are
    // freed after that, so that no new CLI starts beside one still dying.
    pool.threads.find((t) => t.threadId === threadId)?.once('exit', () => setImmediate(releaseThread, commandBudget, threadId));
  });
  return pool;
}

/** Resolves once the pool's first thread runs, or has ended before it could; undefined when the pool has no thread. */
export function firstThreadOnline(pool: Piscina): Promise<void> | undefined {
  const first = pool.threads[0];
  if (!first) return undefined;
  return new Promise<void>((resolve) => {
    first.once('online', resolve);
    first.once('exit', resolve);
  });
}

/**
 * Watches a task's lane probes (see `watchdog.ts`) and ends its thread once one runs past its deadline: the only way
 * to stop a probe that blocks the thread (Piscina replaces it). The other tasks it was running fail with it, and
 * run again (see `recovery.ts`). `overdue()` is that probe, once there is one; `stop()` ends the watch.
 */
export function endOverdueThread(pool: Piscina, control: SharedArrayBuffer): { overdue(): ProbePosition | undefined; stop(): void } {
  let overdue: ProbePosition | undefined;
  const stop = watchTask(control, (position) => {
    overdue = position;
    void pool.threads.find((t) => t.threadId === taskThread(control))?.terminate();
  });
  return { overdue: () => overdue, stop };
}

/** Whether Piscina can apply `niceIncrement`: it loads the optional `@napi-rs/nice` from its own location. */
export function niceAvailable(): boolean {
  try {
    const fromPiscina = createRequire(createRequire(import.meta.url).resolve('piscina'));
    fromPiscina.resolve('@napi-rs/nice');
    return true;
  } catch {
    return false;
  }
}
