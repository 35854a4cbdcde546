/**
 * The library, as a gateway uses it: one pool, a checker called for every
 * provider at once, each sweep cold. The variants: unniced workers (`-nice0`), a pool
 * warmed beforehand (`pool-hot`), the providers in an adversarial order
 * (`pool-adversarial`), a gateway holding `--ballast-mb` of memory
 * (`pool-large`), and a CPU-bound sweep, at the default priority and unniced, for several agents
 * at once. Every pool gets the library's defaults but what a flag sets.
 */
import { createAuthProbePool, type AuthProbePool, type AuthProbePoolOptions } from '../src/index.js';
import { createBallast } from './ballast.js';
import type { Mode, ModeContext, ModeName } from './mode.js';
import { adversarialOrder, cpuProviders, providersWithProbe, warmupProviders } from './provider-sets.js';
import type { Scenario } from './scenario.js';

export type PoolModeName = Extract<ModeName, `pool${string}`>;

/** Agents (scopes) the CPU-bound modes sweep at once; each runs every hashing probe again. */
export const CPU_AGENTS = 8;

/**
 * The options a pool mode creates its pool with: the scenario's probes, and
 * `threads` / `spawnVia` only when the command line set them, so that a run
 * without those flags measures the library's defaults, whatever they are.
 */
export function poolOptions(ctx: ModeContext, niceIncrement?: number): AuthProbePoolOptions {
  const { scenario } = ctx;
  return {
    probes: scenario.config,
    configDir: scenario.root,
    env: scenario.env,
    ...(ctx.threads === undefined ? {} : { threads: { min: ctx.threads, max: ctx.threads } }),
    ...(ctx.spawnVia === undefined ? {} : { spawnVia: ctx.spawnVia }),
    ...(niceIncrement === undefined ? {} : { niceIncrement }),
  };
}

/** The providers a pool mode sweeps, in the order its checker is called. */
function sweepOrder(name: PoolModeName, scenario: Scenario): readonly string[] {
  if (name === 'pool-cpu' || name === 'pool-cpu-nice0') return cpuProviders(scenario);
  if (name === 'pool-adversarial') return adversarialOrder(scenario.providers, providersWithProbe(scenario, ['command']));
  return scenario.providers;
}

export function poolMode(name: PoolModeName, ctx: ModeContext): Mode {
  const { scenario } = ctx;
  const cold = () => scenario.touch();
  const hot = name === 'pool-hot';
  const cpu = name === 'pool-cpu' || name === 'pool-cpu-nice0';
  const ballast = name === 'pool-large' ? createBallast(ctx.ballastMb) : undefined;
  const pool: AuthProbePool = createAuthProbePool(poolOptions(ctx, name.endsWith('-nice0') ? ctx.niceIncrement : undefined));
  const agents = cpu ? Array.from({ length: CPU_AGENTS }, (_, i) => `agent-${i}`) : [''];
  const providers = sweepOrder(name, scenario);
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
      // The large gateway holds its memory before its pool does any work, as it would at start-up.
      ballast?.hold();
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
    poolThreads: () => pool.stats().threads,
    async close() {
      try {
        await pool.close({ force: true });
      } finally {
        await ballast?.release();
      }
    },
  };
}
