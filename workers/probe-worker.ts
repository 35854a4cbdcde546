/**
 * The worker entry Piscina loads. It receives the compiled-once probe
 * configuration through `workerData`, runs each task's providers' probes in
 * the task's order (the run queue sends them cheapest first, see `runCost`),
 * posts each provider's result on the task's port as it completes, and returns presence and metadata only: no secret value ever leaves
 * this thread. Errors are returned as data, never thrown.
 */
import { workerData } from 'piscina';
import { compileConfig } from '../src/config.js';
import { probeProvider } from '../src/probes/provider.js';
import { startHelper } from '../src/probes/spawn-client.js';
import type { ProbeTask, ProviderResult, TaskResult, WorkerInit } from '../src/schema.js';

const init = workerData as WorkerInit;
const config = compileConfig(init.config);
const hasCommandProbe = [...Object.values(init.config.providers).flat(), ...(init.config.defaults ?? [])].some((p) => p.kind === 'command');
// With spawnVia 'helper', the helper starts with the worker and the first task waits for it (at most one probe
// timeout, in case it never says ready), so its start-up does not count against a command probe's deadline.
let helperReady: Promise<unknown> | undefined =
  init.spawnVia === 'helper' && hasCommandProbe
    ? Promise.race([startHelper(), new Promise((resolve) => setTimeout(resolve, init.probeTimeoutMs).unref())])
    : undefined;

export default async function probeWorker(task: ProbeTask): Promise<TaskResult> {
  if (helperReady) {
    await helperReady;
    helperReady = undefined;
  }
  const results: ProviderResult[] = [];
  for (let i = 0; i < task.providers.length; i++) {
    const result = await probeProvider(init, config, task, i);
    results.push(result);
    // Streamed as it completes: should a later provider hang past its deadline, this one is answered already.
    task.port?.postMessage({ index: i, result });
  }
  task.port?.close();
  return { results };
}
