import { describe, expect, it } from 'vitest';
import { createAuthProbePool } from 'auth-probe-pool';
import { childrenWith, eventually, processesWith, zombieChildren } from './helpers/processes.js';
import { fakeCli } from './helpers/temp.js';
import { useFixture } from './helpers/fixture.js';

const SECRET = 'sk-hostile-cli-0a1b';

describe.each(['worker', 'helper'] as const)('hostile CLIs, spawned from the %s', (spawnVia) => {
  const { dir, pools } = useFixture({ prefix: 'app-cli-faults-', monitor: 'faults.commands' });
  // Every process a fake CLI starts carries the temp dir in its command line, so the process table can be searched.
  const marker = dir.root;
  const grandchild = `require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ${JSON.stringify(marker)}], { stdio: ['ignore', 'inherit', 'ignore'] });`;
  const cli = {
    hang: fakeCli(dir, 'hang', `setInterval(() => {}, 1000);`),
    stubborn: fakeCli(dir, 'stubborn', `process.on('SIGTERM', () => {}); process.on('SIGINT', () => {}); setInterval(() => {}, 1000);`),
    forker: fakeCli(dir, 'forker', `${grandchild} process.exit(0);`),
    // A shell script, not a Node one: it must exit well within its timeout however loaded the machine is, leaving the
    // grandchild (a shell carrying the marker in its arguments) holding stdout open until that timeout.
    forkerOut: dir.write('bin/forker-out', `#!/bin/sh\nsh -c 'sleep 3600; :' "$1" &\nprintf '%s' '${SECRET}'\nexit 0\n`, 0o755),
    flood: fakeCli(
      dir,
      'flood',
      `const chunk = Buffer.alloc(1 << 20, 65); let n = 0; const go = () => { while (n++ < 400) { if (!process.stdout.write(chunk)) return process.stdout.once('drain', go); } process.exit(0); }; go();`,
    ),
  };
  const cmd = (command: string, extra: object = {}) => [{ kind: 'command' as const, command, args: [marker], ...extra }];
  const probes = {
    providers: {
      hang: cmd(cli.hang, { timeoutMs: 400 }),
      stubborn: cmd(cli.stubborn, { timeoutMs: 400 }),
      forker: cmd(cli.forker),
      'forker-out': cmd(cli.forkerOut, { requireStdout: true, timeoutMs: 800 }),
      flood: cmd(cli.flood, { requireStdout: true }),
      'flood-ignored': cmd(cli.flood, { timeoutMs: 4000 }),
    },
  };

  it('ends a CLI that hangs, and one that ignores SIGTERM, at its timeout; no process of them survives', async () => {
    const pool = pools.create({ spawnVia, probes });
    const report = { hang: await pool.explain('hang'), stubborn: await pool.explain('stubborn') };
    for (const r of Object.values(report)) {
      expect(r.auth).toBe(false);
      expect(r.probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_PROBE_TIMEOUT' } });
    }
    expect(await eventually(() => processesWith(marker).length === 0)).toBe(true);
    // The worker is still usable.
    expect(await pool.hasAuth('forker')).toBe(true);
  });

  it('counts a CLI killed at its timeout in stats().timeouts, as explain() reports it', async () => {
    const sleeper = dir.write('bin/sleeper', '#!/bin/sh\nexec sleep 5\n', 0o755);
    const pool = pools.create({ spawnVia, probes: { providers: { a: cmd(sleeper, { timeoutMs: 300 }), b: cmd(sleeper, { timeoutMs: 300 }) } } });
    const check = pool.createChecker();
    expect(await Promise.all([check('a'), check('b')])).toEqual([false, false]);
    expect(pool.stats().timeouts).toBe(2);
    expect((await pool.explain('a')).probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_PROBE_TIMEOUT' } });
    expect(pool.stats().timeouts).toBe(3);
  });

  it('force-close ends a running CLI at once, and leaves no process behind, nor a helper, nor a zombie', async () => {
    // A duration no other test uses, to find this sleep in the process table.
    const nap = `2${spawnVia === 'worker' ? 1 : 2}.${process.pid}`;
    const napper = dir.write(`bin/nap-${spawnVia}`, `#!/bin/sh\nexec sleep ${nap}\n`, 0o755);
    const helpersBefore = childrenWith('spawn-helper.js').length;
    const zombiesBefore = new Set(zombieChildren().map((p) => p.pid));
    const pool = createAuthProbePool({ spawnVia, threads: { min: 1, max: 1 }, probeTimeoutMs: 60_000, probes: { providers: { napper: [{ kind: 'command', command: napper }] } } });
    const pending = pool.hasAuth('napper').then(
      () => 'answered',
      (err: { code?: string }) => err.code,
    );
    expect(await eventually(() => processesWith(nap).length === 1)).toBe(true);
    const started = Date.now();
    await pool.close({ force: true });
    const closing = Date.now() - started;
    expect(await pending).toBe('E_POOL_CLOSED');
    expect(processesWith(nap)).toEqual([]);
    expect(await eventually(() => childrenWith('spawn-helper.js').length <= helpersBefore)).toBe(true);
    // Reaped: by the helper's parent, the main thread, or, spawned from a worker, by its thread before it ended.
    expect(await eventually(() => zombieChildren().every((p) => zombiesBefore.has(p.pid)))).toBe(true);
    // Far below the 2x-second nap: the CLI was cut off, not waited for.
    expect(closing).toBeLessThan(10_000);
  });

  it('kills the grandchild a CLI forked and left behind', async () => {
    const pool = pools.create({ spawnVia, probes });
    expect(await pool.hasAuth('forker')).toBe(true);
    expect(await eventually(() => processesWith(marker).length === 0)).toBe(true);
  });

  it("keeps a CLI's own answer when a grandchild holds its stdout open, and kills the grandchild", async () => {
    const pool = pools.create({ spawnVia, probes });
    const report = await pool.explain('forker-out');
    expect(report.auth).toBe(true);
    expect(JSON.stringify(report)).not.toContain(SECRET);
    expect(await eventually(() => processesWith(marker).length === 0)).toBe(true);
  });

  it('cuts off a CLI that prints hundreds of MB: false with E_COMMAND_FAILED, memory bounded by maxStdoutBytes', async () => {
    const pool = pools.create({ spawnVia, probes, maxStdoutBytes: 64 * 1024 });
    const report = await pool.explain('flood');
    expect(report.auth).toBe(false);
    expect(report.probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_COMMAND_FAILED' } });
    expect(report.probes[0]?.error?.message).toContain('more than 65536 bytes');
    // Output nobody reads goes nowhere: the same CLI without requireStdout just succeeds.
    expect(await pool.hasAuth('flood-ignored')).toBe(true);
    expect(await eventually(() => processesWith(marker).length === 0)).toBe(true);
  });
});
