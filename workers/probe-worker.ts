/**
 * The worker entry Piscina loads. It receives the compiled-once probe
 * configuration through `workerData`, runs each task's providers' probes in
 * order, and returns presence and metadata only: no secret value ever leaves
 * this thread. Errors are returned as data, never thrown.
 */
import { performance } from 'node:perf_hooks';
import { workerData } from 'piscina';
import { compileConfig, planProbes } from '../src/config.js';
import { probeBudgetMs, runProbe, type ProbeContext, type Verdict } from '../src/probes/index.js';
import { failed } from '../src/probes/verdict.js';
import type { ProbeOutcome, ProbeTask, ProviderResult, TaskResult, WorkerInit } from '../src/schema.js';
import { probeFinished, probeStarted } from '../src/watchdog.js';

const init = workerData as WorkerInit;
const config = compileConfig(init.config);

export default async function probeWorker(task: ProbeTask): Promise<TaskResult> {
  const results: ProviderResult[] = [];
  for (let i = 0; i < task.providers.length; i++) {
    results.push(await probeProvider(task, i));
  }
  return { results };
}

async function probeProvider(task: ProbeTask, providerIndex: number): Promise<ProviderResult> {
  const provider = task.providers[providerIndex] as string;
  const started = performance.now();
  const deps = new Map<string, string>();
  const ctx: ProbeContext = { provider, modelApi: task.modelApi, scope: task.scope, env: task.env, init, config, deps };
  const probes: ProbeOutcome[] = [];
  let decidedBy: number | null = null;
  for (const { probe, source, index } of planProbes(config, provider)) {
    const t0 = performance.now();
    probeStarted(task.control, providerIndex, probes.length, probeBudgetMs(probe, init.probeTimeoutMs));
    let verdict: Verdict;
    try {
      verdict = await runProbe(probe, ctx);
    } catch (err) {
      // A bug of ours, not the probe's: report it as data, with no message that could quote input.
      verdict = failed('E_PROBE_FAILED', err instanceof Error ? err.name : typeof err);
    } finally {
      probeFinished(task.control);
    }
    probes.push({
      index,
      source,
      kind: probe.kind,
      ...(probe.label ? { label: probe.label } : {}),
      ...verdict,
      durationMs: performance.now() - t0,
    });
    if (verdict.outcome === 'present') {
      decidedBy ??= probes.length - 1;
      if (task.mode === 'first') break;
    }
  }
  return { provider, auth: decidedBy !== null, decidedBy, probes, durationMs: performance.now() - started, deps: [...deps] };
}
