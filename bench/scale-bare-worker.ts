/**
 * The bare pool's worker (`scale-bare.ts`): the library's probes, as one
 * thread's read runs them (`probe-runner.ts`), for a task's agents, each
 * agent's providers in one call; the answers go back as one byte each.
 */
import { workerData } from 'node:worker_threads';
import { createAgentProbeRunner, type RunnerInput } from './probe-runner.js';

/** A task: agents, each probed for the same providers. */
export interface BareTask {
  readonly agentDirs: readonly string[];
  readonly providers: readonly string[];
}

const probeAgent = createAgentProbeRunner(workerData as RunnerInput);

/** The answers agent by agent, provider by provider: 1 for auth, 0 for none. */
export default async function probeAgents({ agentDirs, providers }: BareTask): Promise<Uint8Array> {
  const out = new Uint8Array(agentDirs.length * providers.length);
  let k = 0;
  for (const agentDir of agentDirs) for (const auth of await probeAgent(agentDir, providers)) out[k++] = auth ? 1 : 0;
  return out;
}
