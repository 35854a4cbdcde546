/**
 * "One thread's read time" of the agents cases: a `worker_threads` Worker
 * runs every agent's probes in sequence (the old code moved to a thread, as
 * `sweep-worker.ts` does for a sweep) and posts how long the reads took,
 * from its first probe to its last (its start-up and module loading left
 * out), with the answers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createAgentProbeRunner, type RunnerInput } from './probe-runner.js';

/** What the worker receives. */
export interface ReadWorkerData {
  readonly input: RunnerInput;
  /** Agent directories, each probed for every provider in one task. */
  readonly agentDirs: readonly string[];
  readonly providers: readonly string[];
  /** Probed first and not timed, so the code is compiled as the pool's was. */
  readonly warmupAgentDir: string;
}

/** What it posts: the read time in milliseconds, and the answers agent by agent, provider by provider. */
export interface ReadWorkerResult {
  readonly readMs: number;
  readonly answers: readonly boolean[];
}

const data = workerData as ReadWorkerData;
const probeAgent = createAgentProbeRunner(data.input);
await probeAgent(data.warmupAgentDir, data.providers);
const t0 = performance.now();
const answers: boolean[] = [];
for (const agentDir of data.agentDirs) answers.push(...(await probeAgent(agentDir, data.providers)));
const result: ReadWorkerResult = { readMs: performance.now() - t0, answers };
parentPort?.postMessage(result);
