/**
 * The scenario's critical path: no sweep can be faster than its slowest
 * provider probed alone. On a started pool, each provider whose probes run a
 * CLI or a module (the only ones that take more than a file read) is
 * checked on its own, cold (answers dropped, files touched); the slowest few
 * are checked again, and the critical path is the largest of their medians.
 * A cold sweep's wall time over it is what the dispatch loses to queueing.
 */
import { performance } from 'node:perf_hooks';
import { createAuthProbePool, type AuthProbePoolOptions } from '../src/index.js';
import { providersWithProbe, warmupProviders } from './provider-sets.js';
import type { Scenario } from './scenario.js';
import { median, round } from './stats.js';

/** Providers checked again after the first pass: the slowest two, so one noisy first run cannot pick the wrong one. */
const FINALISTS = 2;

/** One provider probed alone, cold. */
export interface AloneTime {
  readonly provider: string;
  /** The scenario's kind of the provider (`hung-cli`, `keyring`, …). */
  readonly kind: string;
  /** Median of its runs, in milliseconds. */
  readonly ms: number;
  readonly runs: number;
}

export interface CriticalPath {
  /** The slowest provider's median time alone, cold, in milliseconds. */
  readonly ms: number;
  readonly provider: string;
  readonly kind: string;
  /** Providers measured (every one with a command or module probe). */
  readonly measured: number;
  /** The finalists, slowest first. */
  readonly slowest: readonly AloneTime[];
  /** Worker threads the pool ran (it was created with the same options as the pool modes). */
  readonly threads: number;
  /** What measuring it took, in milliseconds. */
  readonly durationMs: number;
}

/**
 * Measures the critical path of `scenario` through a pool made with
 * `options`; `repetitions` runs (at least one) of each finalist.
 * Undefined when no provider runs a CLI or module.
 */
export async function measureCriticalPath(scenario: Scenario, options: AuthProbePoolOptions, repetitions: number, progress: (line: string) => void): Promise<CriticalPath | undefined> {
  const candidates = providersWithProbe(scenario, ['command', 'module']);
  if (candidates.length === 0) return undefined;
  const started = performance.now();
  const pool = createAuthProbePool(options);
  const scope = { agentDir: scenario.agentDir };
  try {
    // Threads up, code compiled, modules loaded: what a running gateway already has.
    const warm = pool.createChecker(scope);
    await Promise.all(warmupProviders(scenario).map((p) => warm(p)));
    const alone = async (provider: string) => {
      pool.invalidate();
      scenario.touch();
      // A new checker each time, as a sweep has: nothing memoised from the previous run.
      const check = pool.createChecker(scope);
      const t0 = performance.now();
      await check(provider);
      return performance.now() - t0;
    };
    const runs = new Map<string, number[]>();
    for (const p of candidates) runs.set(p, [await alone(p)]);
    const first = [...runs].sort((a, b) => (b[1][0] as number) - (a[1][0] as number));
    const finalists = first.slice(0, FINALISTS).map(([p]) => p);
    progress(`critical path: ${candidates.length} providers alone in ${((performance.now() - started) / 1000).toFixed(1)} s; again ${repetitions - 1}x: ${finalists.join(', ')}`);
    for (let i = 1; i < repetitions; i++) for (const p of finalists) runs.get(p)?.push(await alone(p));
    const slowest = finalists
      .map((p): AloneTime => ({ provider: p, kind: scenario.kinds[p] ?? 'unknown', ms: round(median(runs.get(p) ?? []), 1), runs: runs.get(p)?.length ?? 0 }))
      .sort((a, b) => b.ms - a.ms);
    const top = slowest[0] as AloneTime;
    return { ms: top.ms, provider: top.provider, kind: top.kind, measured: candidates.length, slowest, threads: pool.stats().threads, durationMs: Math.round(performance.now() - started) };
  } finally {
    await pool.close({ force: true });
  }
}
