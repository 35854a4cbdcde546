import { afterAll, describe, expect, it } from 'vitest';
import { createBallast } from '../dist/bench/ballast.js';
import { measureCriticalPath } from '../dist/bench/critical-path.js';
import { parseFlags } from '../dist/bench/flags.js';
import { createMode } from '../dist/bench/modes.js';
import { poolOptions } from '../dist/bench/pool-modes.js';
import { adversarialOrder, providersWithProbe } from '../dist/bench/provider-sets.js';
import { buildScenario, type Scenario } from '../dist/bench/scenario.js';

describe('the benchmark pool modes', () => {
  const built: Scenario[] = [];
  const make = (providers = 24) => {
    const s = buildScenario({ providers, cliMs: 5, seed: 5, hashIterations: 1000 });
    built.push(s);
    return s;
  };
  afterAll(() => {
    for (const s of built) s.cleanup();
  });

  it('puts the block side by side at a fifth of the sweep, the rest in their order', () => {
    const ids = Array.from({ length: 20 }, (_, i) => `p${i}`);
    const order = adversarialOrder(ids, ['p17', 'p2', 'p9']);
    expect(order).toHaveLength(20);
    expect(new Set(order)).toEqual(new Set(ids));
    expect(order.slice(4, 7)).toEqual(['p2', 'p9', 'p17']);
    expect(order.filter((p) => !['p2', 'p9', 'p17'].includes(p))).toEqual(ids.filter((p) => !['p2', 'p9', 'p17'].includes(p)));
    // A block too big to start there ends the sweep instead.
    expect(adversarialOrder(['a', 'b', 'c'], ['a', 'b', 'c'], 0.9)).toEqual(['a', 'b', 'c']);
    expect(adversarialOrder(['a', 'b', 'c', 'd'], ['a', 'b'], 0.9)).toEqual(['c', 'd', 'a', 'b']);
  });

  it('passes no threads or spawnVia to a pool unless the command line set them', () => {
    const s = make(8);
    const flags = parseFlags([]);
    expect(flags).toMatchObject({ threads: null, spawnVia: null, ballastMb: 1536, criticalPath: true });
    const plain = poolOptions({ scenario: s, niceIncrement: 10, ballastMb: 0 });
    expect(plain).not.toHaveProperty('threads');
    expect(plain).not.toHaveProperty('spawnVia');
    expect(plain).not.toHaveProperty('niceIncrement');
    const set = parseFlags(['--threads', '3', '--spawn-via', 'helper']);
    expect(poolOptions({ scenario: s, threads: set.threads ?? undefined, spawnVia: set.spawnVia ?? undefined, niceIncrement: 10, ballastMb: 0 }, 10)).toMatchObject({
      threads: { min: 3, max: 3 },
      spawnVia: 'helper',
      niceIncrement: 10,
    });
    expect(() => parseFlags(['--spawn-via', 'fork'])).toThrow('--spawn-via: expected worker or helper');
  });

  it('holds its ballast resident while held, and lets it go on release', async () => {
    const ballast = createBallast(16, 2);
    const before = process.memoryUsage().arrayBuffers;
    ballast.hold();
    expect(ballast.heldMb).toBe(16);
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(16 * 2 ** 20);
    await ballast.release();
    expect(ballast.heldMb).toBe(0);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 2 ** 20);
  });

  it('sweeps the adversarial order and the large gateway to the same answers as the scenario, threads reported', async () => {
    const s = make();
    for (const name of ['pool-adversarial', 'pool-large'] as const) {
      const mode = createMode(name, { scenario: s, niceIncrement: 0, ballastMb: 4 });
      try {
        await mode.prepare();
        mode.beforeSweep();
        expect(((await mode.sweep?.()) ?? []).sort(), name).toEqual(s.expected);
        expect(mode.poolThreads?.(), name).toBeGreaterThan(0);
      } finally {
        await mode.close();
      }
    }
  });

  it('measures the critical path as the slowest CLI or module provider alone: a hung CLI, killed at its timeout', async () => {
    const s = make(8);
    const lines: string[] = [];
    const cp = await measureCriticalPath(s, poolOptions({ scenario: s, niceIncrement: 0, ballastMb: 0 }), 2, (l) => lines.push(l));
    expect(cp).toBeDefined();
    expect(cp?.measured).toBe(providersWithProbe(s, ['command', 'module']).length);
    expect(cp?.slowest).toHaveLength(2);
    expect(cp?.slowest.every((f) => f.runs === 2)).toBe(true);
    // Nothing alone can beat the hung CLI, which runs until it is killed: a lower bound, not a timing.
    expect(cp?.ms).toBeGreaterThanOrEqual(s.hangTimeoutMs * 0.9);
    expect(cp?.ms).toBe(cp?.slowest[0]?.ms);
    expect(cp?.threads).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/critical path: \d+ providers alone/);
  });
});
