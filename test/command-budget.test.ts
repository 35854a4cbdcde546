import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AuthProbePool } from 'auth-probe-pool';
import { barrierCli, peakConcurrency } from './helpers/concurrency.js';
import { eventually, processesWith } from './helpers/processes.js';
import { capturingLogger } from './helpers/pools.js';
import { useFixture } from './helpers/fixture.js';

describe.each(['worker', 'helper'] as const)('the command budget, CLIs spawned from the %s', (spawnVia) => {
  const { dir, pools } = useFixture({ prefix: 'app-cli-budget-', pool: { spawnVia } });
  const cli = barrierCli(dir, 'barrier');
  // A CLI that holds its slot until its release file exists, then answers true.
  const hog = dir.write('bin/hog', '#!/bin/sh\nwhile [ ! -e "$1" ]; do sleep 0.05; done\n', 0o755);
  dir.write('probes/bad.mjs', 'export function spin() { for (;;) {} }\nexport function exit() { process.exit(3); }\n');
  let sweeps = 0;

  /** `clis` providers whose CLIs wait for `together` of them to have started, and `lookups` env providers. */
  function sweepConfig(clis: number, together: number, lookups = 0) {
    const log = dir.path(`sweep-${spawnVia}-${sweeps++}.log`);
    const providers: Record<string, { kind: 'command'; command: string; args: string[] }[] | { kind: 'env'; vars: string[] }[]> = {};
    for (let i = 0; i < clis; i++) providers[`cli-${i}`] = [{ kind: 'command', command: cli, args: [log, `cli-${i}`, String(together)] }];
    for (let i = 0; i < lookups; i++) providers[`env-${i}`] = [{ kind: 'env', vars: [`UNSET_${i}`] }];
    return { log, providers };
  }

  /** Checks every provider at once (one sweep), expecting each CLI provider to answer `true`. */
  async function sweep(pool: AuthProbePool, ids: readonly string[]): Promise<void> {
    const check = pool.createChecker();
    const answers = await Promise.all(ids.map((id) => check(id)));
    expect(ids.filter((id, i) => id.startsWith('cli-') && !answers[i])).toEqual([]);
  }

  it('runs the CLIs of one sweep on more than one thread', async () => {
    const { logger, lines } = capturingLogger();
    const { providers } = sweepConfig(16, 4, 24);
    const pool = pools.create({ threads: { min: 2, max: 2 }, maxConcurrentCommands: 4, probeTimeoutMs: 20_000, logger, probes: { providers } });
    await sweep(pool, Object.keys(providers));
    await pool.close();
    const withCommands = lines.filter((l) => l['msg'] === 'dispatch' && (l['commands'] as number) > 0);
    expect(withCommands.reduce((n, l) => n + (l['commands'] as number), 0)).toBe(16);
    expect(new Set(withCommands.map((l) => l['thread'])).size).toBe(2);
  });

  it('lets the budget, not a thread, be the limit: the CLIs running at once reach maxConcurrentCommands, never more', async () => {
    // 6 over 2 threads; then 3, fewer than the threads' shares of it would add up to (2 + 2) if each had one.
    for (const budget of [6, 3]) {
      const { log, providers } = sweepConfig(budget * 4, budget, 10);
      const pool = pools.create({ threads: { min: 2, max: 2 }, maxConcurrentCommands: budget, probeTimeoutMs: 20_000, probes: { providers } });
      await sweep(pool, Object.keys(providers));
      expect(peakConcurrency(log)).toEqual({ peak: budget, ended: budget * 4 });
      // Each slot is given back before its provider's result is posted: none is held once the sweep is answered.
      expect(pool.stats()).toMatchObject({ commandsRunning: 0, commandsPeak: budget });
      await pool.close();
    }
  });

  it.each([
    ['blocks it past its deadline', 'spin'],
    ['crashes it', 'exit'],
  ])('gives back the slots of a thread ended while its CLIs ran (a module probe of their task %s)', async (_, fault) => {
    const release = dir.path(`release-${spawnVia}-${fault}`);
    const { log, providers } = sweepConfig(8, 4);
    const probes = {
      providers: {
        ...providers,
        'hog-a': [{ kind: 'command' as const, command: hog, args: [release] }],
        'hog-b': [{ kind: 'command' as const, command: hog, args: [release] }],
        faulty: [{ kind: 'module' as const, module: './probes/bad.mjs', export: fault }],
      },
    };
    // One thread: the hogs and the faulty probe share its task (CLI runs first), and the hogs hold 2 of the 4 slots
    // when the thread ends. Were those lost, the sweep after could never run 4 CLIs at once.
    const pool = pools.create({ threads: { min: 1, max: 1 }, maxConcurrentCommands: 4, probeTimeoutMs: 4000, configDir: dir.root, probes });
    const check = pool.createChecker();
    const answers = Promise.all([check('hog-a'), check('hog-b'), check('faulty')]);
    expect(await eventually(() => pool.stats()[fault === 'spin' ? 'timeouts' : 'crashes'] === 1)).toBe(true);
    // The thread has ended; the hogs run again (without the faulty probe's deadline or crash), and are let go.
    writeFileSync(release, '');
    expect(await answers).toEqual([true, true, false]);
    expect(await eventually(() => pool.stats().commandsRunning === 0)).toBe(true);
    await sweep(pool, Object.keys(providers));
    expect(peakConcurrency(log)).toEqual({ peak: 4, ended: 8 });
    await pool.close();
    // The hogs' first runs were killed with their thread's tasks (a zombie, with spawnVia: 'worker', until we exit).
    expect(await eventually(() => processesWith(hog).length === 0)).toBe(true);
  });
});
