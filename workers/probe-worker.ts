/**
 * The worker entry Piscina loads. It receives the compiled-once probe
 * configuration through `workerData`, runs each task's providers' probes in
 * order, and returns presence and metadata only: no secret value ever leaves
 * this thread. Errors are returned as data, never thrown.
 */
import { workerData } from 'piscina';
import { compileConfig } from '../src/config.js';
import { probeProvider } from '../src/probes/provider.js';
import type { ProbeTask, ProviderResult, TaskResult, WorkerInit } from '../src/schema.js';

const init = workerData as WorkerInit;
const config = compileConfig(init.config);

export default async function probeWorker(task: ProbeTask): Promise<TaskResult> {
  const results: ProviderResult[] = [];
  for (let i = 0; i < task.providers.length; i++) {
    results.push(await probeProvider(init, config, task, i));
  }
  return { results };
}
