/**
 * "One thread's read time" of the agents cases: a `worker_threads` Worker
 * runs every agent's probes in sequence (the old code moved to a thread, as
 * `sweep-worker.ts` does for a sweep) and posts how long the reads of each
 * set of agents took, from its first probe to its last (its start-up and
 * module loading left out), with the answers. The sets are read one after
 * the other, as the pool's bursts are (see `scale-agents.ts`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { cpuMsSince } from './proc.js';
import { createAgentProbeRunner, type RunnerInput } from './probe-runner.js';

/** What the worker receives. */
export interface ReadWorkerData {
  readonly input: RunnerInput;
  /** Sets of agent directories, read in this order; each agent probed for every provider in one task. */
  readonly sets: readonly (readonly string[])[];
  readonly providers: readonly string[];
  /** Probed first and not timed: the code loaded and run once, as the pool's was on its spare agent. */
  readonly warmupAgentDir: string;
}

/**
 * What it posts: each set's read time in milliseconds, the process's CPU time over it (every thread's: this one's and
 * V8's helpers'; the main thread waits), and the answers set by set, agent by agent, provider by provider.
 */
export interface ReadWorkerResult {
  readonly readMs: readonly number[];
  readonly cpuMs: readonly number[];
  readonly answers: readonly boolean[];
}

const data = workerData as ReadWorkerData;
const probeAgent = createAgentProbeRunner(data.input);
await probeAgent(data.warmupAgentDir, data.providers);
const answers: boolean[] = [];
const readMs: number[] = [];
const cpuMs: number[] = [];
for (const set of data.sets) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const agentDir of set) answers.push(...(await probeAgent(agentDir, data.providers)));
  readMs.push(performance.now() - t0);
  cpuMs.push(cpuMsSince(cpu0));
}
const result: ReadWorkerResult = { readMs, cpuMs, answers };
parentPort?.postMessage(result);
