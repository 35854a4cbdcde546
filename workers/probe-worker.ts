/**
 * The worker entry Piscina loads. It receives the compiled-once probe
 * configuration through `workerData`, runs each task's providers' probes
 * (quick kinds first, see `probeOrder`), posts each provider's result on the
 * task's port as it completes, and returns presence and metadata only: no secret value ever leaves
 * this thread. Errors are returned as data, never thrown.
 */
import { workerData } from 'piscina';
import { compileConfig } from '../src/config.js';
import { probeOrder, probeProvider } from '../src/probes/provider.js';
import type { ProbeTask, ProviderResult, TaskResult, WorkerInit } from '../src/schema.js';

const init = workerData as WorkerInit;
const config = compileConfig(init.config);

export default async function probeWorker(task: ProbeTask): Promise<TaskResult> {
  const results: ProviderResult[] = new Array(task.providers.length);
  for (const i of probeOrder(config, task)) {
    const result = await probeProvider(init, config, task, i);
    results[i] = result;
    // Streamed as it completes: should a later provider hang past its deadline, this one is answered already.
    task.port?.postMessage({ index: i, result });
  }
  task.port?.close();
  return { results };
}
