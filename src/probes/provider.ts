/**
 * One provider's probes, in order (its own, then `defaults`), as the worker
 * runs them: each timed and recorded as an outcome, and each but a command
 * marked in the task's watchdog cells (a command's deadline is its own); in `first` mode it stops at the first that finds auth. The
 * providers of a task run concurrently: a command probe waits for its CLI
 * without holding the thread, while every other probe takes the worker's lane,
 * one at a time. A provider whose probes are all synchronous completes
 * synchronously, `onDone` included, so its result is posted before the next
 * provider's probes run. Also what the benchmark's old-style modes run on the
 * main thread, so both do the same work.
 */
import { performance } from 'node:perf_hooks';
import { planFor, type CompiledConfig } from '../config/compile.js';
import type { Probe, ProbeOutcome, ProbeTask, ProviderResult, WorkerInit } from '../config/schema.js';
import { commandRunning, commandSpawning, probeFinished, probeStarted } from '../dispatch/watchdog.js';
import type { ProbeContext } from './context.js';
import { Gate, type WorkerGates } from './gate.js';
import { runProbe } from './index.js';
import { helperChannel } from './spawn-client.js';
import { failed, type Verdict } from './verdict.js';

/** Each task's shared reads (see ProbeContext.memo), dropped with the task. */
const memos = new WeakMap<ProbeTask, Map<string, unknown>>();

function memoOf(task: ProbeTask): Map<string, unknown> {
  let memo = memos.get(task);
  if (!memo) memos.set(task, (memo = new Map()));
  return memo;
}

/** Gates for a caller that runs one provider at a time (the benchmark's main-thread runner). */
const UNSHARED: WorkerGates = { lane: new Gate(1), commands: new Gate(1) };

export async function probeProvider(
  init: WorkerInit,
  config: CompiledConfig,
  task: ProbeTask,
  providerIndex: number,
  gates: WorkerGates = UNSHARED,
  onDone?: (result: ProviderResult) => void,
): Promise<ProviderResult> {
  const provider = task.providers[providerIndex] as string;
  const started = performance.now();
  const probes: ProbeOutcome[] = [];
  let decidedBy: number | null = null;
  const skips = task.skip?.[providerIndex];
  const { scope, env } = task.scopes?.[task.scopeIndex?.[providerIndex] ?? 0] ?? task;
  const only = task.only?.[providerIndex] ?? undefined;
  const plan = planFor(config, provider);
  const memo = memoOf(task);
  // Made only for a provider with a command probe: the rest never spawn.
  let spawning: Pick<ProbeContext, 'onSpawn' | 'onSpawning' | 'runInHelper'> | undefined;
  for (let position = 0; position < plan.length; position++) {
    if (only && !only.includes(position)) continue;
    const { probe, source, index } = plan[position] as (typeof plan)[number];
    // Each probe's own dependencies: a change to one file re-runs only the probes that read it.
    const deps = new Map<string, string>();
    if (probe.kind === 'command')
      spawning ??= {
        onSpawn: (pid) => commandRunning(task.control, providerIndex, pid),
        onSpawning: () => commandSpawning(task.control, providerIndex),
        ...(init.spawnVia === 'helper' && task.port ? { runInHelper: helperChannel(task.port) } : {}),
      };
    const ctx: ProbeContext = { provider, modelApi: task.modelApi, scope, env, init, config, deps, memo, ...spawning };
    const skipped = skips?.find((s) => s.position === position);
    let verdict: Verdict;
    let t0 = performance.now();
    if (skipped) {
      verdict = { outcome: 'error', error: skipped.error };
    } else {
      const gate = probe.kind === 'command' ? gates.commands : gates.lane;
      const waiting = gate.enter();
      if (waiting) await waiting;
      // Timed from here: waiting for the lane or a command slot is not the probe's own cost.
      t0 = performance.now();
      try {
        const running = start(probe, position, ctx, task, providerIndex);
        verdict = running instanceof Promise ? await running : running;
      } catch (err) {
        // A bug of ours, not the probe's: report it as data, with no message that could quote input.
        verdict = failed('E_PROBE_FAILED', err instanceof Error ? err.name : typeof err);
      } finally {
        probeFinished(task.control, providerIndex);
        gate.leave();
      }
    }
    probes.push({
      position,
      index,
      source,
      kind: probe.kind,
      ...(probe.label ? { label: probe.label } : {}),
      ...verdict,
      durationMs: performance.now() - t0,
      ...(deps.size > 0 ? { deps: [...deps] } : {}),
    });
    if (verdict.outcome === 'present') {
      decidedBy ??= probes.length - 1;
      if (task.mode === 'first') break;
    }
  }
  const result: ProviderResult = { provider, auth: decidedBy !== null, decidedBy, probes, durationMs: performance.now() - started };
  onDone?.(result);
  return result;
}

/** Marks a lane probe in the watchdog cells, then starts it. A command's deadline is its own `timeoutMs` (see watchdog.ts). */
function start(probe: Probe, position: number, ctx: ProbeContext, task: ProbeTask, providerIndex: number): Verdict | Promise<Verdict> {
  if (probe.kind !== 'command') probeStarted(task.control, providerIndex, position, ctx.init.probeTimeoutMs);
  return runProbe(probe, ctx);
}
