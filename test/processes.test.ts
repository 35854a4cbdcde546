/**
 * The processes a pool starts, and what is left of them: its spawn helper (one, the main thread's), the CLIs,
 * and no zombie. A child is reaped only by the event loop that spawned it (nodejs/node#46569): one a worker
 * thread spawned and that is still there when the thread ends stays a zombie, holding a pid, until the gateway
 * exits. Zombies have no command line, so they are counted by state, as children of this process.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAuthProbePool, type AuthProbePool } from 'auth-probe-pool';
import { childrenWith, eventually, processEntry, processesWith, zombieChildren } from './helpers/processes.js';
import { useFixture } from './helpers/fixture.js';
import { capturingLogger } from './helpers/pools.js';

/** Zombie children of this process that were not there when it was made. */
function newZombies(): () => number[] {
  const before = new Set(zombieChildren().map((p) => p.pid));
  return () =>
    zombieChildren()
      .filter((p) => !before.has(p.pid))
      .map((p) => p.pid);
}

/** Samples `count()` every few milliseconds until stopped; `most()` is the largest value seen. */
function sampler(count: () => number): { most(): number; stop(): void } {
  let most = count();
  const timer = setInterval(() => (most = Math.max(most, count())), 10);
  return { most: () => Math.max(most, count()), stop: () => clearInterval(timer) };
}

const helpers = () => childrenWith('spawn-helper.js');

/**
 * Whether the process's main thread waits in its event loop (epoll), done with what it was doing. A helper that has
 * spawned a command writes its `{ id, pid }` in the same turn: back in its loop, it has told the main thread the pid.
 * A command whose pid it had not told yet when it was killed is out of the main thread's reach.
 */
function waitingInLoop(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/wchan`, 'utf8').includes('epoll');
  } catch {
    return false;
  }
}

/**
 * Rounds of threads ending with commands in use: each checks `ids` (CLIs), then `spin` (a module spinning past
 * probeTimeoutMs: the watchdog ends its thread), then waits for the idle second thread to end; no zombie after each.
 */
async function threadsEnding(pool: AuthProbePool, ids: readonly string[], rounds: number, zombies: () => readonly unknown[]): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    pool.invalidate();
    const check = pool.createChecker();
    expect(await Promise.all(ids.map((id) => check(id)))).toEqual(ids.map(() => true));
    expect(await check('spin')).toBe(false);
    expect(await eventually(() => pool.stats().threads === 1)).toBe(true);
    expect(await eventually(() => zombies().length === 0)).toBe(true);
  }
}

describe('the spawn helper', () => {
  const { dir } = useFixture({ prefix: 'app-processes-' });
  dir.write('probes/spin.mjs', 'export default () => { for (;;) {} };');
  const quick = dir.write('bin/quick', '#!/bin/sh\nsleep 0.1\nexit 0\n', 0o755);
  const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
  const providers = {
    ...Object.fromEntries(ids.map((id) => [id, [{ kind: 'command' as const, command: quick }]])),
    spin: [{ kind: 'module' as const, module: './probes/spin.mjs' }],
  };

  it('leaves no zombie as threads end (idle recycling, a watchdog termination, close()), and runs one helper for the pool', async () => {
    const zombies = newZombies();
    // One task per provider, so the second thread starts; idle, it ends 100 ms later.
    const pool = createAuthProbePool({ configDir: dir.root, threads: { min: 1, max: 2 }, idleTimeoutMs: 100, probeTimeoutMs: 1000, batchSize: 1, probes: { providers } });
    const running = sampler(() => helpers().length);
    try {
      await threadsEnding(pool, ids, 4, zombies);
      expect(pool.stats()).toMatchObject({ timeouts: 4, crashes: 0 });
      expect(helpers()).toHaveLength(1);
    } finally {
      running.stop();
      await pool.close();
    }
    expect(running.most()).toBe(1);
    expect(await eventually(() => helpers().length === 0)).toBe(true);
    expect(await eventually(() => zombies().length === 0)).toBe(true);
  });

  it('kills the CLIs of a helper that dies, fails their probes, and starts another for the next command', async () => {
    const zombies = newZombies();
    // A duration no other test uses, to find this sleep in the process table.
    const nap = `31.${process.pid}`;
    const napper = dir.write('bin/napper', `#!/bin/sh\nexec sleep ${nap}\n`, 0o755);
    const pool = createAuthProbePool({
      threads: { min: 1, max: 1 },
      probes: { providers: { napper: [{ kind: 'command', command: napper, timeoutMs: 1000 }], quick: [{ kind: 'command', command: quick }] } },
    });
    try {
      const report = pool.explain('napper');
      expect(await eventually(() => processesWith(nap).length === 1)).toBe(true);
      const [helper] = helpers();
      expect(helper).toBeDefined();
      expect(await eventually(() => waitingInLoop(helper as number))).toBe(true);
      process.kill(helper as number, 'SIGKILL');
      const r = await report;
      expect(r.auth).toBe(false);
      expect(r.probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_PROBE_FAILED' } });
      // Gone, not left running for its 31 s after its helper.
      expect(await eventually(() => processesWith(nap).length === 0)).toBe(true);
      expect(await pool.hasAuth('quick')).toBe(true);
      expect(helpers()).toHaveLength(1);
      expect(helpers()).not.toContain(helper);
      expect(await eventually(() => zombies().length === 0)).toBe(true);
    } finally {
      await pool.close();
    }
    expect(processesWith(nap)).toEqual([]);
    expect(await eventually(() => helpers().length === 0)).toBe(true);
    expect(await eventually(() => zombies().length === 0)).toBe(true);
  });
  it('kills the command of a task whose thread was ended for another probe, and leaves no zombie', async () => {
    const zombies = newZombies();
    const nap = `34.${process.pid}`;
    const napper = dir.write('bin/napper-34', `#!/bin/sh\nexec sleep ${nap}\n`, 0o755);
    const pool = createAuthProbePool({
      configDir: dir.root,
      threads: { min: 1, max: 1 },
      probeTimeoutMs: 1000,
      probes: { providers: { napper: [{ kind: 'command', command: napper, timeoutMs: 60_000 }], spin: providers.spin } },
    });
    const check = pool.createChecker();
    const napping = check('napper').catch((err: { code?: string }) => err.code);
    try {
      expect(await eventually(() => processesWith(nap).length === 1)).toBe(true);
      const [first] = processesWith(nap);
      // The module spins on the CLI's thread past its deadline: the thread ends, and the CLI's task with it.
      expect(await check('spin')).toBe(false);
      // Killed and reaped, not left to nap for its 60 s timeout; its task runs again, with a CLI of its own.
      expect(await eventually(() => processEntry(first as number) === undefined)).toBe(true);
      expect(await eventually(() => processesWith(nap).length === 1)).toBe(true);
      expect(pool.stats()).toMatchObject({ timeouts: 1, collateralRuns: 1 });
    } finally {
      await pool.close({ force: true });
    }
    expect(await napping).toBe('E_POOL_CLOSED');
    expect(await eventually(() => processesWith(nap).length === 0)).toBe(true);
    expect(await eventually(() => zombies().length === 0)).toBe(true);
  });

  it('kills a helper that stops answering (SIGSTOP) once a command is past its timeout and a grace: its probe fails, its CLI is killed', async () => {
    const zombies = newZombies();
    const nap = `33.${process.pid}`;
    const napper = dir.write('bin/napper-33', `#!/bin/sh\nexec sleep ${nap}\n`, 0o755);
    const { logger, lines } = capturingLogger();
    const pool = createAuthProbePool({
      logger,
      threads: { min: 1, max: 1 },
      probes: { providers: { napper: [{ kind: 'command', command: napper, timeoutMs: 300 }], quick: [{ kind: 'command', command: quick }] } },
    });
    try {
      const report = pool.explain('napper');
      expect(await eventually(() => processesWith(nap).length === 1)).toBe(true);
      const [helper] = helpers();
      expect(await eventually(() => waitingInLoop(helper as number))).toBe(true);
      process.kill(helper as number, 'SIGSTOP');
      // The stopped helper cannot kill the CLI at its timeout, nor report it: the main thread gives up on it.
      const r = await report;
      expect(r.probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_PROBE_FAILED' } });
      expect(lines.some((l) => l['msg'] === 'spawn helper did not report a command past its timeout; killed')).toBe(true);
      expect(await eventually(() => processesWith(nap).length === 0)).toBe(true);
      expect(await pool.hasAuth('quick')).toBe(true);
      expect(helpers()).not.toContain(helper);
    } finally {
      await pool.close();
    }
    expect(await eventually(() => helpers().length === 0)).toBe(true);
    expect(await eventually(() => zombies().length === 0)).toBe(true);
  });

  it("runs the helper, and so the CLIs it forks, at the worker threads' niceIncrement", async () => {
    const niceOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]);
    const seen = dir.path('nice.txt');
    const cli = dir.write('bin/nice', `#!/bin/sh\nnice > '${seen}'\n`, 0o755);
    const pool = createAuthProbePool({ niceIncrement: 7, threads: { min: 1, max: 1 }, probes: { providers: { n: [{ kind: 'command', command: cli }] } } });
    try {
      expect(await pool.hasAuth('n')).toBe(true);
      const expected = Math.min(19, niceOf(process.pid) + 7);
      expect(Number(readFileSync(seen, 'utf8'))).toBe(expected);
      expect(helpers().map(niceOf)).toEqual([expected]);
    } finally {
      await pool.close();
    }
  });
});

describe("spawnVia 'worker'", () => {
  const { dir } = useFixture({ prefix: 'app-processes-worker-' });
  dir.write('probes/spin.mjs', 'export default () => { for (;;) {} };');
  const spin = [{ kind: 'module' as const, module: './probes/spin.mjs' }];

  it('leaves no zombie when threads end with no CLI running (idle recycling, a watchdog termination, close())', async () => {
    const zombies = newZombies();
    const quick = dir.write('bin/quick', '#!/bin/sh\nsleep 0.1\nexit 0\n', 0o755);
    const ids = ['a', 'b', 'c', 'd'];
    const providers = { ...Object.fromEntries(ids.map((id) => [id, [{ kind: 'command' as const, command: quick }]])), spin };
    const pool = createAuthProbePool({ spawnVia: 'worker', configDir: dir.root, threads: { min: 1, max: 2 }, idleTimeoutMs: 100, probeTimeoutMs: 1000, batchSize: 1, probes: { providers } });
    try {
      await threadsEnding(pool, ids, 3, zombies);
      expect(helpers()).toEqual([]);
    } finally {
      await pool.close();
    }
    expect(await eventually(() => zombies().length === 0)).toBe(true);
  });

  it('kills a CLI running when its thread is ended for a lane probe, which stays a zombie (the documented limit); a force-close lets the threads reap theirs', async () => {
    const zombies = newZombies();
    const nap = `32.${process.pid}`;
    const napper = dir.write('bin/napper', `#!/bin/sh\nexec sleep ${nap}\n`, 0o755);
    const pool = createAuthProbePool({
      spawnVia: 'worker',
      configDir: dir.root,
      threads: { min: 1, max: 1 },
      probeTimeoutMs: 1000,
      probes: { providers: { napper: [{ kind: 'command', command: napper, timeoutMs: 60_000 }], spin } },
    });
    const check = pool.createChecker();
    const napping = check('napper').catch((err: { code?: string }) => err.code);
    let first: number | undefined;
    try {
      expect(await eventually(() => processesWith(nap).length === 1)).toBe(true);
      [first] = processesWith(nap);
      // Its thread's lane neighbour spins past its deadline: the watchdog ends the thread, and the CLI is killed.
      expect(await check('spin')).toBe(false);
      expect(await eventually(() => processEntry(first as number)?.state === 'Z')).toBe(true);
      // Its task runs again on the new thread, whose CLI a force-close kills, and lets the thread reap before it ends.
      expect(await eventually(() => processesWith(nap).some((pid) => pid !== first))).toBe(true);
      expect(pool.stats()).toMatchObject({ timeouts: 1, collateralRuns: 1 });
    } finally {
      await pool.close({ force: true });
    }
    expect(await napping).toBe('E_POOL_CLOSED');
    expect(await eventually(() => processesWith(nap).length === 0)).toBe(true);
    // The first was killed, but as a child of a thread that had ended it is left a zombie: the only one.
    expect(zombies()).toEqual([first]);
  });
});
