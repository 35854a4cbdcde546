/**
 * Sweeps at the speed of their slowest probe: command probes wait for their
 * CLIs side by side (bounded), tasks share a thread while they wait, runs go
 * out by cost whatever the caller's order, and a check can bound its wait.
 * Real threads, real shell-script CLIs; every assertion is about order, never
 * about how long something took.
 */
import { describe, expect, it } from 'vitest';
import type { AuthChangeEvent } from 'auth-probe-pool';
import { eventually } from './helpers/processes.js';
import { useFixture } from './helpers/fixture.js';
import { markLines, type TempDir } from './helpers/temp.js';

/** A CLI (`<bin>/<name>`) that notes `start <name>` and `end <name>` in `mark` around a sleep of `seconds`, then prints. */
function timedCli(dir: TempDir, mark: string, name: string, seconds: number, bin = 'bin'): string {
  return dir.write(`${bin}/${name}`, `#!/bin/sh\necho "start ${name}" >> '${mark}'\nsleep ${seconds}\necho "end ${name}" >> '${mark}'\necho yes\n`, 0o755);
}

/** The most CLIs that were running at once, from their start and end lines. */
function mostAtOnce(lines: readonly string[]): number {
  let now = 0;
  let most = 0;
  for (const line of lines) {
    now += line.startsWith('start ') ? 1 : -1;
    most = Math.max(most, now);
  }
  return most;
}

const cmd = (command: string, extra: object = {}) => [{ kind: 'command' as const, command, requireStdout: true, ...extra }];

describe.each(['worker', 'helper'] as const)('command probes side by side, spawned from the %s', (spawnVia) => {
  const { dir, pools } = useFixture({ prefix: `app-sweep-${spawnVia}-` });

  it("runs a task's CLIs side by side: every one has started before the first ends", async () => {
    const mark = dir.path(`side-${spawnVia}.mark`);
    const providers = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => [id, cmd(timedCli(dir, mark, `side-${id}`, 1))]));
    const pool = pools.create({ spawnVia, threads: { min: 1, max: 1 }, probes: { providers } });
    const check = pool.createChecker();
    expect(await Promise.all(Object.keys(providers).map((id) => check(id)))).toEqual([true, true, true, true, true, true]);
    const lines = markLines(mark);
    expect(lines).toHaveLength(12);
    expect(lines.slice(0, 6).every((l) => l.startsWith('start '))).toBe(true);
  });

  it('runs at most maxConcurrentCommands CLIs at once', async () => {
    const mark = dir.path(`bound-${spawnVia}.mark`);
    const providers = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((id) => [id, cmd(timedCli(dir, mark, `bound-${id}`, 0.5))]));
    const pool = pools.create({ spawnVia, threads: { min: 1, max: 1 }, maxConcurrentCommands: 2, probes: { providers } });
    const check = pool.createChecker();
    expect((await Promise.all(Object.keys(providers).map((id) => check(id)))).every(Boolean)).toBe(true);
    const lines = markLines(mark);
    expect(lines).toHaveLength(10);
    expect(mostAtOnce(lines)).toBe(2);
  });
});

describe('a sweep and its slow CLIs', () => {
  const { dir, pools } = useFixture({ prefix: 'app-sweep-' });

  it("answers a lookup of the same batch before the batch's slow CLI ends", async () => {
    const mark = dir.path('lookup.mark');
    const pool = pools.create({ threads: { min: 1, max: 1 }, env: { KEY: 'set' }, probes: { providers: { slow: cmd(timedCli(dir, mark, 'lookup-slow', 2)), env: [{ kind: 'env', vars: ['KEY'] }] } } });
    const check = pool.createChecker();
    const slow = check('slow');
    expect(await check('env')).toBe(true);
    expect(markLines(mark)).not.toContain('end lookup-slow');
    expect(await slow).toBe(true);
  });

  it("answers a later check on the same thread while an earlier task's CLI hangs", async () => {
    const mark = dir.path('later.mark');
    const pool = pools.create({
      threads: { min: 1, max: 1 },
      env: { KEY: 'set' },
      probes: { providers: { hung: cmd(timedCli(dir, mark, 'later-hung', 3)), env: [{ kind: 'env', vars: ['KEY'] }] } },
    });
    const check = pool.createChecker();
    const hung = check('hung');
    expect(await eventually(() => markLines(mark).length === 1)).toBe(true);
    // A new task, in a later tick, while the only thread's first task waits for its CLI.
    expect(await check('env')).toBe(true);
    expect(markLines(mark)).toEqual(['start later-hung']);
    expect(await hung).toBe(true);
  });

  it("starts CLIs by cost, never in the caller's order: by id at first, slowest first once their durations are known", async () => {
    const ids = ['d', 'b', 'a', 'c'];
    const seconds: Record<string, number> = { a: 0.05, b: 0.05, c: 0.4, d: 0.05 };
    const orders: string[][] = [];
    for (const order of [ids, [...ids].reverse()]) {
      const mark = dir.path(`order-${order.join('')}.mark`);
      // Scripts of their own: the first pool follows its executables, and would run them again if they were rewritten.
      const providers = Object.fromEntries(ids.map((id) => [id, cmd(timedCli(dir, mark, id, seconds[id] as number, `bin-${order.join('')}`))]));
      // One CLI at a time, so the start order is the order the runs were sent in.
      const pool = pools.create({ threads: { min: 1, max: 1 }, maxConcurrentCommands: 1, probes: { providers } });
      const check = pool.createChecker();
      await Promise.all(order.map((id) => check(id)));
      pool.invalidate();
      await Promise.all(order.map((id) => check(id)));
      orders.push(
        markLines(mark)
          .filter((l) => l.startsWith('start '))
          .map((l) => l.slice(6)),
      );
    }
    for (const starts of orders) {
      // First sweep: nothing measured, all alike: by id. Second: the slow one first (the others cost about the same).
      expect(starts.slice(0, 4)).toEqual(['a', 'b', 'c', 'd']);
      expect(starts[4]).toBe('c');
      expect(starts.slice(4).sort()).toEqual(['a', 'b', 'c', 'd']);
    }
  });

  it('runs again, and answers right, a task that shared its thread with a probe ended at its deadline', async () => {
    const mark = dir.path('shared.mark');
    dir.write('probes/spin.mjs', 'export default () => { for (;;) {} };');
    const pool = pools.create({
      configDir: dir.root,
      threads: { min: 1, max: 1 },
      probeTimeoutMs: 1500,
      probes: { providers: { cli: cmd(timedCli(dir, mark, 'shared-cli', 1.2)), spin: [{ kind: 'module', module: './probes/spin.mjs' }] } },
    });
    const check = pool.createChecker();
    const cli = check('cli');
    expect(await eventually(() => markLines(mark).length === 1)).toBe(true);
    // Another task on the same thread, whose module blocks it until the watchdog ends the thread.
    expect(await check('spin')).toBe(false);
    expect(await cli).toBe(true);
    expect(pool.stats()).toMatchObject({ timeouts: 1, collateralRuns: 1 });
    expect((await pool.explain('spin')).probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_PROBE_TIMEOUT' } });
  });
});

describe.each(['helper', 'worker'] as const)('a quick CLI beside a busy module on one thread, spawned from the %s', (spawnVia) => {
  const { dir, pools } = useFixture({ prefix: `app-busy-${spawnVia}-` });
  // Busy for 2.5 s, well within its own deadline (probeTimeoutMs 5000), holding the thread's loop all along.
  dir.write('probes/busy.mjs', 'export default () => { const until = Date.now() + 2500; while (Date.now() < until) {} return true; };');
  const quick = dir.write('bin/quick', '#!/bin/sh\nsleep 0.2\necho yes\n', 0o755);
  const providers = { cli: cmd(quick, { timeoutMs: 500 }), busy: [{ kind: 'module' as const, module: './probes/busy.mjs' }] };

  it('answers both true: no thread is ended, nothing is charged with a timeout or a crash', async () => {
    const pool = pools.create({ spawnVia, configDir: dir.root, threads: { min: 1, max: 1 }, probeTimeoutMs: 5000, probes: { providers } });
    const check = pool.createChecker();
    // The CLI exits long before the module lets the worker's loop see it: its deadline measures the command, which
    // the watchdog does not time, and a lane probe within its own deadline is not ended for it.
    expect(await Promise.all([check('cli'), check('busy')])).toEqual([true, true]);
    expect(pool.stats()).toMatchObject({ timeouts: 0, crashes: 0, collateralRuns: 0 });
  });
});

describe('answerWithinMs', () => {
  const { dir, pools } = useFixture({ prefix: 'app-within-' });

  it('answers undecided false within the bound while the CLI runs on, then publishes its true with a change event', async () => {
    const mark = dir.path('within.mark');
    const pool = pools.create({
      answerWithinMs: 100,
      threads: { min: 1, max: 1 },
      env: { KEY: 'set' },
      probes: { providers: { slow: cmd(timedCli(dir, mark, 'within-slow', 1.5)), env: [{ kind: 'env', vars: ['KEY'] }] } },
    });
    const events: AuthChangeEvent[] = [];
    pool.on('change', (e) => events.push(e));
    // The thread started first (a warm waits for real answers), so only the CLI can be slower than the bound.
    expect((await pool.warm(['env'])).answers).toEqual({ env: true });
    const check = pool.createChecker();
    expect(await Promise.all([check('slow'), check('env')])).toEqual([false, true]);
    // Answered before the CLI ended, as undecided.
    expect(markLines(mark)).toEqual(['start within-slow']);
    expect(pool.stats().undecided).toBe(1);
    expect(await check('slow')).toBe(false);
    expect(await eventually(() => events.length === 1)).toBe(true);
    expect(events[0]).toMatchObject({ provider: 'slow', previous: false, current: true });
    expect(markLines(mark)).toEqual(['start within-slow', 'end within-slow']);
    expect(await check('slow')).toBe(true);
    expect((await pool.explain('slow')).kept).toMatchObject({ auth: true, undecided: false });
  });

  it('publishes no event when the run it did not wait for ends false too', async () => {
    const mark = dir.path('within-no.mark');
    const no = dir.write('bin/within-no', `#!/bin/sh\necho "start" >> '${mark}'\nsleep 0.6\necho "end" >> '${mark}'\nexit 3\n`, 0o755);
    const pool = pools.create({ answerWithinMs: 100, probes: { providers: { no: cmd(no) } } });
    const events: AuthChangeEvent[] = [];
    pool.on('change', (e) => events.push(e));
    const check = pool.createChecker();
    expect(await check('no')).toBe(false);
    expect(markLines(mark)).not.toContain('end');
    expect(pool.stats().undecided).toBe(1);
    expect(await eventually(() => markLines(mark).length === 2)).toBe(true);
    expect(await eventually(() => pool.stats().answersInFlight === 0)).toBe(true);
    expect((await pool.explain('no')).kept).toMatchObject({ auth: false, undecided: false });
    expect(events).toEqual([]);
  });
});
