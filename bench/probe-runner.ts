/**
 * The library's own probe implementations run in sequence on the calling
 * thread: what a gateway did before any fix. The very function the worker
 * runs per provider (`spawnSync` for commands, `readSync` for files), so the
 * work is identical; only where it runs differs.
 */
import { compileConfig } from '../src/config/compile.js';
import { resolveOptions, workerInitOf } from '../src/config/options.js';
import { createCommandBudget } from '../src/probes/command-budget.js';
import { probeProvider } from '../src/probes/provider.js';
import type { ProbeConfig, ProbeTask } from '../src/config/schema.js';
import { createControl } from '../src/dispatch/watchdog.js';

/** Everything needed to probe providers without a pool. Structured-cloneable, so a Worker can receive it. */
export interface RunnerInput {
  readonly config: ProbeConfig;
  readonly configDir: string;
  readonly agentDir: string;
  readonly env: Readonly<Record<string, string>>;
}

/** Probes one provider, stopping at the first probe that finds auth (the pool's `first` mode). */
export type ProviderProbe = (provider: string) => Promise<boolean>;

/** Probes an agent's providers in one task (its store read once, as the pool's batched runs do), in order; their answers, in that order. */
export type AgentProbe = (agentDir: string, providers: readonly string[]) => Promise<boolean[]>;

export function createProbeRunner(input: RunnerInput): ProviderProbe {
  const probeAgent = createAgentProbeRunner(input);
  return async (provider) => (await probeAgent(input.agentDir, [provider]))[0] === true;
}

/** The same runner for many agents: `input.agentDir` is replaced by each call's. */
export function createAgentProbeRunner(input: RunnerInput): AgentProbe {
  const probeAgents = createAgentsProbeRunner(input);
  return (agentDir, providers) => probeAgents([agentDir], providers);
}

/**
 * Probes several agents' providers in one task, as the pool's batched tasks do (what they read in common, a shared
 * store, is read once a task): every agent of `agentDirs` for each of `providers`; the answers agent by agent, provider
 * by provider. One agent is a task of its own scope, as `createAgentProbeRunner` makes.
 */
export function createAgentsProbeRunner(input: RunnerInput): (agentDirs: readonly string[], providers: readonly string[]) => Promise<boolean[]> {
  // The pool's own option parsing and defaults, so probes get the same limits (timeouts, file sizes) on both paths.
  // Commands by spawnSync in the calling process, as before any fix (the library's default runs them in a helper).
  // One provider at a time here (probeProvider's own gates): the budget is never consulted.
  const init = workerInitOf(resolveOptions({ probes: input.config, configDir: input.configDir, env: input.env, spawnVia: 'worker' }), createCommandBudget(1));
  const config = compileConfig(init.config);
  // Nobody watches these cells here: on the main thread a hung probe simply blocks, as it did before any fix.
  // One cell per provider of a task, so one buffer per task size.
  const controls = new Map<number, SharedArrayBuffer>();
  return async (agentDirs, providers) => {
    const size = agentDirs.length * providers.length;
    let control = controls.get(size);
    if (!control) controls.set(size, (control = createControl(size)));
    const task: ProbeTask =
      agentDirs.length === 1
        ? { providers, scope: { agentDir: agentDirs[0] as string }, env: input.env, mode: 'first', control }
        : {
            providers: agentDirs.flatMap(() => providers),
            scope: { agentDir: agentDirs[0] as string },
            env: input.env,
            scopes: agentDirs.map((agentDir) => ({ scope: { agentDir }, env: input.env })),
            scopeIndex: agentDirs.flatMap((_, a) => providers.map(() => a)),
            mode: 'first',
            control,
          };
    const answers: boolean[] = [];
    for (let i = 0; i < size; i++) answers.push((await probeProvider(init, config, task, i)).auth);
    return answers;
  };
}

/** Probes every provider in order, calling `between()` before each (the "yield" fix awaits a turn of the loop there). */
export async function probeInSequence(probe: ProviderProbe, providers: readonly string[], between?: () => Promise<void>): Promise<string[]> {
  const found: string[] = [];
  for (const provider of providers) {
    if (between) await between();
    if (await probe(provider)) found.push(provider);
  }
  return found;
}
