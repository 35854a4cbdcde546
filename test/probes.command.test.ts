import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAuthProbePool } from 'auth-probe-pool';
import { childrenWith, eventually } from './helpers/processes.js';
import { fakeCli } from './helpers/temp.js';
import { useFixture } from './helpers/fixture.js';

const SECRET = 'sk-cli-secret-91bd';

describe.each(['worker', 'helper'] as const)('command probe, spawned from the %s', (spawnVia) => {
  const { dir, pools } = useFixture();
  const count = dir.path('count.txt');
  // Each fake CLI appends a mark to a file, so tests can count real executions.
  const mark = `require('fs').appendFileSync(${JSON.stringify(count)}, process.argv[2] + '\\n');`;
  const keychain = fakeCli(dir, 'security', `${mark} if (process.argv[3] === 'known') { process.stdout.write(${JSON.stringify(SECRET)}); process.exit(0); } process.exit(44);`);
  const silent = fakeCli(dir, 'silent-ok', `${mark} process.exit(0);`);
  // A shell script, not a Node one: it must write its mark well inside its 300 ms timeout, and on a loaded
  // 2-core machine a Node CLI's start-up alone can take longer (seen under Node 24 while other suites ran).
  const slow = dir.write('bin/slow', `#!/bin/sh\necho "$1" >> '${count}'\nexec sleep 60\n`, 0o755);
  const probes = {
    providers: {
      known: [{ kind: 'command' as const, command: keychain, args: ['known', 'known'], requireStdout: true }],
      unknown: [{ kind: 'command' as const, command: keychain, args: ['unknown', 'unknown'] }],
      quiet: [{ kind: 'command' as const, command: silent, args: ['quiet'], requireStdout: true }],
      exitzero: [{ kind: 'command' as const, command: silent, args: ['exitzero'] }],
      absent: [{ kind: 'command' as const, command: dir.path('bin/does-not-exist') }],
      onpath: [{ kind: 'command' as const, command: 'silent-ok', args: ['onpath'] }],
      hung: [{ kind: 'command' as const, command: slow, args: ['hung'], timeoutMs: 300 }],
    },
  };

  it('is true on exit code 0, and with requireStdout only when stdout is non-empty', async () => {
    const pool = pools.create({ spawnVia, probes });
    expect(await pool.hasAuth('known')).toBe(true);
    expect(await pool.hasAuth('exitzero')).toBe(true);
    expect(await pool.hasAuth('quiet')).toBe(false);
    expect((await pool.explain('quiet')).probes[0]?.error?.code).toBe('E_COMMAND_NO_OUTPUT');
  });

  it('is false on a non-zero exit, reporting the exit code', async () => {
    const pool = pools.create({ spawnVia, probes });
    expect(await pool.hasAuth('unknown')).toBe(false);
    const report = await pool.explain('unknown');
    expect(report.probes[0]).toMatchObject({ outcome: 'absent', error: { code: 'E_COMMAND_FAILED' }, detail: { exitCode: 44 } });
  });

  it('is false, with E_COMMAND_NOT_FOUND, when the executable does not exist', async () => {
    const pool = pools.create({ spawnVia, probes });
    expect(await pool.hasAuth('absent')).toBe(false);
    expect((await pool.explain('absent')).probes[0]?.error?.code).toBe('E_COMMAND_NOT_FOUND');
  });

  it('gives a command a minimal environment: the base list, plus its passEnv, never the rest; explain() names them', async () => {
    const envCheck = dir.write('bin/env-check', '#!/bin/sh\n[ -z "$STRIPE_SECRET_KEY" ] && [ -z "$DATABASE_URL" ] && [ "$AWS_PROFILE" = work ] && [ "$LC_ALL" = C ] && [ -n "$HOME" ]\n', 0o755);
    const noHome = dir.write('bin/no-home', '#!/bin/sh\n[ -z "$HOME" ] && [ -z "$AWS_PROFILE" ]\n', 0o755);
    const env = { PATH: '/usr/bin:/bin', HOME: dir.root, LC_ALL: 'C', STRIPE_SECRET_KEY: 'sk-stripe', DATABASE_URL: 'postgres://u:p@h/db', AWS_PROFILE: 'work' };
    const envProbes = {
      providers: {
        aws: [{ kind: 'command' as const, command: envCheck, passEnv: ['AWS_PROFILE'] }],
        bare: [{ kind: 'command' as const, command: envCheck }],
        narrow: [{ kind: 'command' as const, command: noHome }],
      },
    };
    const pool = pools.create({ spawnVia, env, probes: envProbes });
    expect(await pool.hasAuth('aws')).toBe(true);
    expect(await pool.hasAuth('bare')).toBe(false); // no AWS_PROFILE without passEnv
    const report = await pool.explain('aws');
    expect(report.probes[0]?.detail?.env).toEqual(['AWS_PROFILE', 'HOME', 'LC_ALL', 'PATH']);
    expect(JSON.stringify(report)).not.toContain('sk-stripe');
    // The base list is the pool's to change.
    const strict = pools.create({ spawnVia, env, probes: envProbes, commandEnv: ['PATH'] });
    expect(await strict.hasAuth('narrow')).toBe(true);
    expect(await pool.hasAuth('narrow')).toBe(false);
  });

  it("resolves a bare command on the scope env's PATH", async () => {
    const pool = pools.create({ spawnVia, probes, env: { PATH: '/usr/bin:/bin' } });
    expect(await pool.hasAuth('onpath')).toBe(false);
    expect(await pool.hasAuth('onpath', { env: { PATH: `${dir.path('bin')}:/usr/bin:/bin` } })).toBe(true);
  });

  it('kills a command at its timeout: false with E_PROBE_TIMEOUT, and remembers the failure so no check waits for it again', async () => {
    const pool = pools.create({ spawnVia, probes });
    const check = pool.createChecker();
    // Counted by the pool, not by the CLI's mark: on a loaded machine the CLI may be killed before it writes one.
    const commandsRun = () => pool.stats().probesRunByKind.command;
    expect(await check('hung')).toBe(false);
    const report = await pool.explain('hung');
    expect(report.probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_PROBE_TIMEOUT' }, detail: { signal: 'SIGKILL' } });
    expect(report.kept).toMatchObject({ auth: false, failing: true, degraded: false });
    expect(commandsRun()).toBe(2); // the check, and explain(), which always probes
    // Remembered for the backoff: neither a check nor a warm runs the command again.
    expect(await check('hung')).toBe(false);
    const warmed = await pool.warm(['hung']);
    expect(warmed.failed).toEqual(['hung']);
    expect(commandsRun()).toBe(2);
    expect(pool.stats().failing).toBe(1);
  });

  it('retries a remembered failure in the background when its backoff ends, while checks keep their answer at once', async () => {
    const pool = pools.create({ spawnVia, probes, failureBackoffMs: { initial: 200, max: 200 } });
    const check = pool.createChecker();
    const commandsRun = () => pool.stats().probesRunByKind.command;
    expect(await check('hung')).toBe(false);
    expect(commandsRun()).toBe(1);
    // A used answer is retried when due, in the background; each check meanwhile is answered from memory.
    for (let i = 0; i < 50 && commandsRun() < 2; i++) {
      expect(await check('hung')).toBe(false);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await eventually(() => commandsRun() >= 2)).toBe(true);
    expect(pool.stats()).toMatchObject({ refreshes: expect.any(Number), failing: 1 });
    expect(pool.stats().refreshes).toBeGreaterThanOrEqual(1);
  });

  it('never lets the CLI output reach a report', async () => {
    const pool = pools.create({ spawnVia, probes });
    const report = await pool.explain('known');
    expect(report.auth).toBe(true);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });
});

describe('the spawn helper', () => {
  const { dir, pools } = useFixture();
  const helpers = () => childrenWith('spawn-helper.js');

  it('runs command probes in one helper process for the whole pool, whatever its threads, which ends with the pool', async () => {
    const cli = fakeCli(dir, 'ok', 'process.stdout.write("yes"); process.exit(0);');
    const probes = { providers: { a: [{ kind: 'command' as const, command: cli, requireStdout: true }], b: [{ kind: 'command' as const, command: cli, requireStdout: true }] } };
    const direct = pools.create({ spawnVia: 'worker', probes, threads: { min: 1, max: 1 } });
    expect(await direct.hasAuth('a')).toBe(true);
    expect(helpers()).toEqual([]);
    // The default; one task per provider, on two threads.
    const pool = createAuthProbePool({ probes, threads: { min: 2, max: 2 }, batchSize: 1 });
    const check = pool.createChecker();
    expect(await Promise.all([check('a'), check('b')])).toEqual([true, true]);
    pool.invalidate();
    expect(await Promise.all([check('a'), check('b')])).toEqual([true, true]);
    expect(pool.stats().threads).toBe(2);
    expect(helpers()).toHaveLength(1);
    await pool.close();
    expect(await eventually(() => helpers().length === 0)).toBe(true);
  });

  it("starts the helper with nothing of the gateway's environment: no secret in its environ, no NODE_OPTIONS preload", async () => {
    const preloaded = dir.path('preloaded.txt');
    const preload = dir.write('preload.cjs', `require('fs').appendFileSync(${JSON.stringify(preloaded)}, process.pid + '\\n');`);
    const secret = 'postgres://gateway:hunter2-env-leak@db/prod';
    const cli = fakeCli(dir, 'env-ok', 'process.exit(process.env.GATEWAY_DATABASE_URL === undefined ? 0 : 3);');
    const probes = { providers: { a: [{ kind: 'command' as const, command: cli }] } };
    const saved = { NODE_OPTIONS: process.env['NODE_OPTIONS'], GATEWAY_DATABASE_URL: process.env['GATEWAY_DATABASE_URL'] };
    // The gateway's own environment, which the process that spawns the helper has.
    process.env['NODE_OPTIONS'] = `--require ${preload}`;
    process.env['GATEWAY_DATABASE_URL'] = secret;
    let pool: ReturnType<typeof pools.create>;
    try {
      pool = pools.create({ probes, threads: { min: 1, max: 1 } });
      expect(await pool.hasAuth('a')).toBe(true);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const [helper] = helpers();
    expect(helper).toBeDefined();
    const environ = readFileSync(`/proc/${helper}/environ`, 'utf8');
    expect(environ).not.toContain('hunter2');
    expect(environ).not.toContain('NODE_OPTIONS');
    expect(existsSync(preloaded)).toBe(false);
    await pool.close();
  });
});
