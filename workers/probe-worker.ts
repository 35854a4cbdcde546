/**
 * The worker entry Piscina loads. It receives the compiled-once probe
 * configuration through `workerData`, and runs several tasks at once, each
 * task's providers concurrently: command probes wait for their CLIs together
 * (within the pool's command budget, shared by every thread), every other probe takes the
 * thread's lane in the order the run queue sent the providers. It posts each
 * provider's result on the task's port as it completes (and, with
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
import { parseRowsKey } from '../src/probes/fingerprint.js';
import { readLimitsOf, rowsFingerprint } from '../src/probes/store/sqlite.js';
import type { RowsTask, TaskResult, WorkerInit } from '../src/config/schema.js';
import { resolveTask, type ProbeTaskMessage } from '../src/probes/task-env.js';
import { taskStarted } from '../src/dispatch/watchdog.js';

const init = workerData as WorkerInit;
const config = compileConfig(init.config);
const gates = createGates(init.commandBudget, threadId);

export default async function probeWorker(message: ProbeTaskMessage | RowsTask): Promise<TaskResult | { fingerprints: string[] }> {
  if ('rows' in message) return { fingerprints: message.rows.map(fingerprintRows) };
  const task = resolveTask(message);
  taskStarted(task.control, threadId);
  // Every provider starts now; those whose probes are all synchronous complete (and post) before the next starts.
  const results = await Promise.all(
    task.providers.map((_, i) =>
      probeProvider(init, config, task, i, gates, (result) => {
        // Streamed as it completes: the main thread answers it now, whatever its batch's slower providers do.
        task.port?.postMessage({ index: i, result });
      }),
    ),
  );
  if (!task.port) return { results };
  // Every result went on the port, which the main thread reads to the end when this returns: no second copy.
  task.port.close();
  return { streamed: results.length };
}

/** A SQLite rows dependency's fingerprint now: one read of its database, as the probe that recorded it reads. */
function fingerprintRows(key: string): string {
  const rows = parseRowsKey(key);
  return rows ? rowsFingerprint(rows.dbPath, rows.role, readLimitsOf(init)) : 'error:unknown';
}
