/**
 * The ways a gateway can answer "which providers have auth?", all over the
 * same scenario and the same probe implementations: the old synchronous
 * sweep, the setImmediate partial fix, a Worker per sweep, and this library
 * cold, niced and hot; plus a CPU-bound sweep, plain and niced, that
 * isolates what a lower worker priority changes.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createAuthProbePool, type AuthProbePool } from '../src/index.js';
import { createProbeRunner, probeInSequence, type RunnerInput } from './probe-runner.js';
import type { Scenario } from './scenario.js';
import type { SweepWorkerData } from './sweep-worker.js';

export const MODE_NAMES = ['idle', 'sync', 'yield', 'worker-per-sweep', 'pool', 'pool-nice', 'pool-hot', 'pool-cpu', 'pool-cpu-nice'] as const;
export type ModeName = (typeof MODE_NAMES)[number];
type PoolModeName = Extract<ModeName, `pool${string}`>;

/** Agents (scopes) the CPU-bound modes sweep at once; each runs every hashing probe again. */
export const CPU_AGENTS = 8;

export interface Mode {
  readonly name: ModeName;
  /** Readies what a running gateway already has (threads started, code compiled, modules loaded). Not measured. */
  prepare(): Promise<void>;
  /** Runs before each measured sweep, outside the window: makes the next sweep cold. */
  beforeSweep(): void;
  /** The sweep a gateway's /models runs: the providers that have auth. Absent for `idle`. */
  readonly sweep?: () => Promise<string[]>;
  /** What `sweep` must answer, sorted. */
  readonly expected: readonly string[];
  close(): Promise<void>;
}

export interface ModeContext {
  readonly scenario: Scenario;
  /** Worker threads of the pool modes. */
  readonly threads: number;
  /** The `niceIncrement` of the `-nice` modes. */
  readonly niceIncrement: number;
}

const SWEEP_WORKER = new URL('./sweep-worker.js', import.meta.url);

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What the synchronous paths (on the main thread or in a Worker) need to probe the scenario. */
export function runnerInput(scenario: Scenario): RunnerInput {
  return { config: scenario.config, configDir: scenario.root, agentDir: scenario.agentDir, env: scenario.env };
}

/** Providers whose probes are CPU work (the multi-MB store, the keyring hash): the CPU-bound modes' sweep. */
export function cpuProviders(scenario: Scenario): string[] {
  return scenario.providers.filter((id) => scenario.kinds[id] === 'store' || scenario.kinds[id] === 'keyring');
}

/**
 * Providers whose probes spawn no CLI: enough to compile every code path and
 * load every module during `prepare()` without paying for the slow ones.
 */
export function warmupProviders(scenario: Scenario): string[] {
  return scenario.providers.filter((id) => !['keychain', 'slow-cli', 'hung-cli'].includes(scenario.kinds[id] as string));
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

/**
 * The library, as a gateway uses it: one pool, a checker called for every
 * provider at once. `pool-hot` has warmed its pool beforehand; the CPU-bound
 * modes sweep only the CPU-heavy providers, for several agents at once, to
 * saturate both cores and show what a lower worker priority changes.
 */
function poolMode(name: PoolModeName, ctx: ModeContext): Mode {
  const { scenario } = ctx;
  const cold = () => scenario.touch();
  const hot = name === 'pool-hot';
  const cpu = name === 'pool-cpu' || name === 'pool-cpu-nice';
  const pool: AuthProbePool = createAuthProbePool({
    probes: scenario.config,
    configDir: scenario.root,
    threads: { min: ctx.threads, max: ctx.threads },
    niceIncrement: name.endsWith('-nice') ? ctx.niceIncrement : 0,
    env: scenario.env,
  });
  const agents = cpu ? Array.from({ length: CPU_AGENTS }, (_, i) => `agent-${i}`) : [''];
  const providers = cpu ? cpuProviders(scenario) : scenario.providers;
  const found = new Set(scenario.expected);
  // Answers are "<agent>/<provider>" in the CPU-bound modes (one scope per agent), else the provider.
  const key = (agent: string, provider: string) => (agent === '' ? provider : `${agent}/${provider}`);
  const expected = agents.flatMap((a) => providers.filter((p) => found.has(p)).map((p) => key(a, p))).sort();
  const scopeOf = (agent: string) => (agent === '' ? { agentDir: scenario.agentDir } : { agentDir: scenario.agentDir, agentId: agent });
  const checkAll = async (ids: readonly string[]) => {
    const answers = await Promise.all(
      agents.map(async (agent) => {
        const check = pool.createChecker(scopeOf(agent));
        const auth = await Promise.all(ids.map((p) => check(p)));
        return ids.filter((_, i) => auth[i]).map((p) => key(agent, p));
      }),
    );
    return answers.flat();
  };
  return {
    name,
    expected,
    async prepare() {
      await checkAll(warmupProviders(scenario).filter((p) => providers.includes(p)));
      // The hot mode's gateway warmed its pool at start-up; the others start each sweep cold.
      if (hot) {
        pool.invalidate();
        cold();
        await pool.warm(providers, scopeOf(''));
      }
    },
    beforeSweep() {
      if (hot) return;
      pool.invalidate();
      cold();
    },
    sweep: () => checkAll(providers),
    close: () => pool.close({ force: true }),
  };
}
