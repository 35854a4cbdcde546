/**
 * The `worker-per-sweep` mode's worker entry: a fresh `worker_threads`
 * Worker per sweep runs every probe in sequence and posts the providers that
 * have auth, then exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createProbeRunner, probeInSequence, type RunnerInput } from './probe-runner.js';

/** What the worker receives. */
export interface SweepWorkerData {
  readonly input: RunnerInput;
  readonly providers: readonly string[];
}

const data = workerData as SweepWorkerData;
const found = await probeInSequence(createProbeRunner(data.input), data.providers);
parentPort?.postMessage(found);
