/**
 * The bare pool's worker (`scale-bare.ts`): the library's probes for a
 * task's agents, in one probe task of their scopes as the pool's batched
 * tasks are (`probe-runner.ts`: what they read in common is read once); the
 * answers go back as one byte each.
 */
import { workerData } from 'node:worker_threads';
import { createAgentsProbeRunner, type RunnerInput } from './probe-runner.js';

/** A task: agents, each probed for the same providers. */
export interface BareTask {
  readonly agentDirs: readonly string[];
  readonly providers: readonly string[];
}

const probe = createAgentsProbeRunner(workerData as RunnerInput);

/** The answers agent by agent, provider by provider: 1 for auth, 0 for none. */
export default async function probeAgents({ agentDirs, providers }: BareTask): Promise<Uint8Array> {
  return Uint8Array.from(await probe(agentDirs, providers), (auth) => (auth ? 1 : 0));
}
