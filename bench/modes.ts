/**
 * The ways a gateway can answer "which providers have auth?", all over the
 * same scenario and the same probe implementations: the old synchronous
 * sweep, the setImmediate partial fix, a Worker per sweep, and this library
 * (`pool-modes.ts`): cold, unniced, hot, in an adversarial order, in a large
 * gateway; plus a CPU-bound sweep, at the default priority and unniced, that isolates what a
 * lower worker priority changes.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { poolMode } from './pool-modes.js';
import { createProbeRunner, probeInSequence, type RunnerInput } from './probe-runner.js';
import { warmupProviders } from './provider-sets.js';
import type { Mode, ModeContext, ModeName } from './mode.js';
import type { Scenario } from './scenario.js';
import type { SweepWorkerData } from './sweep-worker.js';

export { CPU_AGENTS } from './pool-modes.js';
export { cpuProviders, warmupProviders } from './provider-sets.js';

const SWEEP_WORKER = new URL('./sweep-worker.js', import.meta.url);

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What the synchronous paths (on the main thread or in a Worker) need to probe the scenario. */
export function runnerInput(scenario: Scenario): RunnerInput {
  return { config: scenario.config, configDir: scenario.root, agentDir: scenario.agentDir, env: scenario.env };
}

/** The mode called `name`, over the context's scenario; nothing runs until `prepare()`. */
export function createMode(name: ModeName, ctx: ModeContext): Mode {
  const { scenario } = ctx;
  const cold = () => scenario.touch();
  const expected = scenario.expected;
  switch (name) {
    case 'idle':
      return { name, expected: [], prepare: async () => {}, beforeSweep: () => {}, close: async () => {} };
    case 'sync':
    case 'yield': {
      const probe = createProbeRunner(runnerInput(scenario));
      const between = name === 'yield' ? turn : undefined;
      return {
        name,
        expected,
        prepare: async () => void (await probeInSequence(probe, warmupProviders(scenario), between)),
        beforeSweep: cold,
        sweep: () => probeInSequence(probe, scenario.providers, between),
        close: async () => {},
      };
    }
    case 'worker-per-sweep': {
      const sweepIn = async (providers: readonly string[]) => {
        const data: SweepWorkerData = { input: runnerInput(scenario), providers };
        const worker = new Worker(SWEEP_WORKER, { workerData: data });
        try {
          const [found] = (await once(worker, 'message')) as [string[]];
          return found;
        } finally {
          await worker.terminate();
        }
      };
      return { name, expected, prepare: async () => void (await sweepIn(warmupProviders(scenario))), beforeSweep: cold, sweep: () => sweepIn(scenario.providers), close: async () => {} };
    }
    default:
      return poolMode(name, ctx);
  }
}
