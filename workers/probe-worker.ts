/**
 * The worker entry Piscina loads. It receives the compiled-once probe
 * configuration through `workerData`, and runs several tasks at once, each
 * task's providers concurrently: command probes wait for their CLIs together
 * (within the pool's command budget, shared by every thread), every other probe takes the
 * thread's lane in the order the run queue sent the providers. It posts each
 * provider's result on the task's port as it completes, with those completed
 * in the same run of the thread (`result-outbox.ts`) (and, with
 * `spawnVia: 'helper'`, its commands for the main thread to run in the
 * pool's spawn helper, whose answers come back on it), and returns presence
 * and metadata only: no secret value ever leaves this thread. Errors are
 * returned as data, never thrown.
 */
import { threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import { compileConfig } from '../src/config/compile.js';
import { createGates } from '../src/probes/gate.js';
import { probeProvider } from '../src/probes/provider.js';
import { readDependencies } from '../src/probes/dep-states.js';
import { readLimitsOf } from '../src/probes/store/sqlite.js';
import type { DepState, DepsTask, WorkerInit } from '../src/config/schema.js';
import { resolveTask, type ProbeTaskMessage } from '../src/probes/task-env.js';
import { ResultOutbox, type TaskResult } from '../src/probes/result-outbox.js';
import { taskStarted } from '../src/dispatch/watchdog.js';

const init = workerData as WorkerInit;
const config = compileConfig(init.config);
const gates = createGates(init.commandBudget, threadId);

export default async function probeWorker(message: ProbeTaskMessage | DepsTask): Promise<TaskResult | { states: DepState[] }> {
  // The watcher's stats and rows reads: the main thread makes none.
  if ('deps' in message) return { states: readDependencies(message, readLimitsOf(init)) };
  const task = resolveTask(message);
  taskStarted(task.control, threadId);
  // Every provider starts now; those whose probes are all synchronous complete before the next starts. Each result
  // is streamed as it completes (with those completed in the same run, see result-outbox.ts): the main thread answers
  // it then, whatever its batch's slower providers do.
  const outbox = task.port ? new ResultOutbox(task.port, task.full === true, task.providers.length) : undefined;
  const results = await Promise.all(task.providers.map((_, i) => probeProvider(init, config, task, i, gates, (result) => outbox?.add(i, result))));
  if (!task.port) return { results };
  // Those completed in this last run go back with the task (one message, see result-outbox.ts); the rest went on the
  // port, which the main thread reads to the end when this returns: no second copy.
  const last = outbox?.takeLast();
  outbox?.flush();
  task.port.close();
  return last ? { streamed: results.length, checks: last } : { streamed: results.length };
}
