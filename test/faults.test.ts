import { describe, expect, it } from 'vitest';
import { AuthProbeError, createAuthProbePool } from 'auth-probe-pool';
import { capturingLogger } from './helpers/pools.js';
import { useFixture } from './helpers/fixture.js';

describe('probes that hang or kill their worker', () => {
  const { dir, pools } = useFixture({ monitor: 'faults.modules' });
  dir.write(
    'probes/bad.mjs',
    `
    export function spin() { for (;;) {} }
    export function exit() { process.exit(3); }
    export function ok() { return true; }
  `,
  );
  const probes = {
    providers: {
      spinner: [{ kind: 'module' as const, module: './probes/bad.mjs', export: 'spin' }],
      exiter: [{ kind: 'module' as const, module: './probes/bad.mjs', export: 'exit' }],
      fine: [{ kind: 'module' as const, module: './probes/bad.mjs', export: 'ok' }],
      envy: [{ kind: 'env' as const, vars: ['HOME'] }],
    },
  };

  it('ends a probe stuck in a loop at its deadline: false, E_PROBE_TIMEOUT, remembered, worker replaced', async () => {
    const { logger, lines } = capturingLogger();
    const pool = pools.create({ probes, configDir: dir.root, probeTimeoutMs: 300, threads: { min: 1, max: 1 }, logger });
    const check = pool.createChecker();
    // The batch of this tick holds the spinner and healthy providers: they still get answers.
    const [spinner, fine, envy] = await Promise.all([check('spinner'), check('fine'), check('envy')]);
    expect([spinner, fine, envy]).toEqual([false, true, true]);
    expect(pool.stats().timeouts).toBe(1);
    const report = await pool.explain('spinner');
    expect(report.auth).toBe(false);
    expect(report.probes[0]).toMatchObject({ kind: 'module', outcome: 'error', error: { code: 'E_PROBE_TIMEOUT' } });
    expect(report.kept).toMatchObject({ auth: false, failing: true });
    // Remembered with backoff: the next check is answered at once, without a dispatch; the replaced worker still serves.
    const dispatches = pool.stats().dispatches;
    expect(await check('spinner')).toBe(false);
    expect(pool.stats().dispatches).toBe(dispatches);
    expect((await pool.explain('fine')).auth).toBe(true);
    expect(lines.some((l) => l['level'] === 50 && l['code'] === 'E_PROBE_TIMEOUT')).toBe(true);
  });

  it('with stopAtFirst, explain() never reaches a hanging probe behind one that found auth', async () => {
    const pool = pools.create({
      configDir: dir.root,
      probeTimeoutMs: 300,
      env: { KEY: 'set' },
      probes: {
        providers: {
          both: [
            { kind: 'env', vars: ['KEY'] },
            { kind: 'module', module: './probes/bad.mjs', export: 'spin' },
          ],
        },
      },
    });
    const quick = await pool.explain('both', undefined, { stopAtFirst: true });
    expect(quick).toMatchObject({ auth: true, probes: [{ kind: 'env', outcome: 'present' }] });
    expect(pool.stats().timeouts).toBe(0);
    // Run in full, the hanging probe is cut off and reported, and the others' outcomes are kept.
    const full = await pool.explain('both');
    expect(full).toMatchObject({
      auth: true,
      probes: [
        { kind: 'env', outcome: 'present' },
        { kind: 'module', outcome: 'error', error: { code: 'E_PROBE_TIMEOUT' } },
      ],
    });
    expect(full.probes[1]?.error?.message).toContain('probe #2');
    expect(await pool.hasAuth('both')).toBe(true);
  });

  it('lets a later probe decide when an earlier one hangs: a stuck keychain lookup does not hide a valid key', async () => {
    const pool = pools.create({
      configDir: dir.root,
      probeTimeoutMs: 300,
      env: { KEY: 'set' },
      threads: { min: 1, max: 1 },
      probes: {
        providers: {
          masked: [
            { kind: 'module', module: './probes/bad.mjs', export: 'spin' },
            { kind: 'env', vars: ['KEY'] },
          ],
          neighbour: [{ kind: 'env', vars: ['KEY'] }],
        },
      },
    });
    const check = pool.createChecker();
    expect(await Promise.all([check('masked'), check('neighbour')])).toEqual([true, true]);
    expect(pool.stats().timeouts).toBe(1);
    const report = await pool.explain('masked');
    expect(report).toMatchObject({
      auth: true,
      probes: [
        { outcome: 'error', error: { code: 'E_PROBE_TIMEOUT' } },
        { kind: 'env', outcome: 'present' },
      ],
    });
    expect(report.decidedBy).toMatchObject({ kind: 'env' });
  });

  it('answers the unrelated providers of a batch within one deadline however many of its probes hang', async () => {
    const spin = { kind: 'module' as const, module: './probes/bad.mjs', export: 'spin' };
    const ids = Array.from({ length: 23 }, (_, i) => (i % 8 === 0 ? `spin${i}` : `env${i}`));
    const providers = Object.fromEntries(ids.map((id) => [id, id.startsWith('spin') ? [spin] : [{ kind: 'env' as const, vars: ['KEY'] }]]));
    const pool = pools.create({ configDir: dir.root, probeTimeoutMs: 1000, threads: { min: 1, max: 1 }, env: { KEY: 'set' }, probes: { providers } });
    const check = pool.createChecker();
    const order: string[] = [];
    const timeoutsSeen: number[] = [];
    const answers = await Promise.all(
      ids.map((id) =>
        check(id).then((answer) => {
          order.push(id);
          if (id.startsWith('env')) timeoutsSeen.push(pool.stats().timeouts);
          return answer;
        }),
      ),
    );
    expect(answers).toEqual(ids.map((id) => id.startsWith('env')));
    expect(pool.stats().timeouts).toBe(3);
    // Every env provider was answered before any spinner, and by the first deadline at the latest.
    expect(order.slice(0, 20).every((id) => id.startsWith('env'))).toBe(true);
    expect(Math.max(...timeoutsSeen)).toBeLessThanOrEqual(1);
  });

  it('survives a probe that calls process.exit(): false with E_WORKER_CRASHED, others unaffected', async () => {
    const pool = pools.create({ probes, configDir: dir.root, threads: { min: 1, max: 1 } });
    const check = pool.createChecker();
    const [exiter, fine] = await Promise.all([check('exiter'), check('fine')]);
    expect([exiter, fine]).toEqual([false, true]);
    expect(pool.stats().crashes).toBeGreaterThanOrEqual(1);
    expect((await pool.explain('exiter')).probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_WORKER_CRASHED' } });
    expect(await pool.hasAuth('envy')).toBe(true);
  });
});

describe('probes that exhaust memory', () => {
  const { dir, pools } = useFixture();
  dir.write(
    'probes/bad.mjs',
    `
    export function hog() { const keep = []; for (;;) keep.push(new Array(1e6).fill(Math.random())); }
    export function ok() { return true; }
    export function undef() { return undefined; }
  `,
  );

  it('ends a worker that allocates past maxWorkerMemoryMb, not the process; other checks still answer', async () => {
    const pool = pools.create({
      configDir: dir.root,
      maxWorkerMemoryMb: 64,
      probeTimeoutMs: 20_000,
      threads: { min: 1, max: 1 },
      probes: {
        providers: {
          hog: [{ kind: 'module', module: './probes/bad.mjs', export: 'hog' }],
          fine: [{ kind: 'module', module: './probes/bad.mjs', export: 'ok' }],
          undef: [{ kind: 'module', module: './probes/bad.mjs', export: 'undef' }],
        },
      },
    });
    const check = pool.createChecker();
    expect(await Promise.all([check('hog'), check('fine')])).toEqual([false, true]);
    expect(pool.stats().crashes).toBe(1);
    expect((await pool.explain('undef')).probes[0]?.error?.code).toBe('E_MODULE_BAD_RESULT');
    expect(await pool.hasAuth('fine')).toBe(true);
  });
});

describe('secrets', () => {
  const { dir, pools } = useFixture();

  it('never appear in answers, explain() reports, stats or logs at any level', async () => {
    const secrets = Array.from({ length: 6 }, (_, i) => `sk-planted-${i}-${Math.random().toString(36).slice(2)}`);
    dir.write('home/.codex/auth.json', { tokens: { access_token: secrets[0] } });
    dir.write('home/.claude/.credentials.json', `{"claudeAiOauth": {"accessToken": "${secrets[1]}"`); // truncated JSON
    dir.write('agent/auth-profiles.json', { profiles: { 'openai:default': { type: 'api_key', provider: 'openai', key: secrets[2] } } });
    dir.write('bin/cli', `#!${process.execPath}\nprocess.stdout.write(${JSON.stringify(secrets[3])}); process.stderr.write(${JSON.stringify(secrets[3])});\n`, 0o755);
    dir.write('probes/p.mjs', `export default (ctx) => { throw new Error('bad ' + ctx.env.MODULE_SECRET); }`);
    const { logger, text } = capturingLogger();
    const pool = pools.create({
      logger,
      slowProbeMs: 0,
      configDir: dir.root,
      env: { HOME: dir.path('home'), OPENAI_API_KEY: secrets[4], MODULE_SECRET: secrets[5] },
      probes: {
        providers: {
          openai: [
            { kind: 'env', vars: ['OPENAI_API_KEY'] },
            { kind: 'authProfiles', path: '{agentDir}/auth-profiles.json' },
            { kind: 'credentialFile', path: '~/.codex/auth.json', pointer: '/tokens/access_token' },
            { kind: 'credentialFile', path: '~/.claude/.credentials.json', pointer: '/claudeAiOauth/accessToken' },
            { kind: 'command', command: dir.path('bin/cli'), requireStdout: true },
            { kind: 'module', module: './probes/p.mjs' },
          ],
        },
      },
    });
    const scope = { agentDir: dir.path('agent') };
    const emitted: unknown[] = [];
    emitted.push(await pool.hasAuth('openai', scope));
    emitted.push(await pool.explain('openai', scope));
    emitted.push(await pool.warm(['openai'], scope));
    emitted.push(pool.stats());
    const all = JSON.stringify(emitted) + text();
    const report = emitted[1] as { probes: { outcome: string }[] };
    expect(report.probes.map((p) => p.outcome)).toEqual(['present', 'present', 'present', 'error', 'present', 'error']);
    for (const secret of secrets) expect(all).not.toContain(secret);
  });

  it('never reach the logs through a worker crash: a rejection a module left behind is logged by its name only', async () => {
    const secret = `sk-live-${Math.random().toString(36).slice(2)}`;
    dir.write('probes/leaky.mjs', `export default () => { Promise.reject(new Error('token refresh failed for ${secret}')); return new Promise((r) => setTimeout(() => r(true), 50)); }`);
    const { logger, lines, text } = capturingLogger();
    const pool = pools.create({ logger, configDir: dir.root, threads: { min: 1, max: 1 }, probes: { providers: { leaky: [{ kind: 'module', module: './probes/leaky.mjs' }] } } });
    expect((await pool.explain('leaky')).probes[0]).toMatchObject({ outcome: 'error', error: { code: 'E_WORKER_CRASHED' } });
    expect(lines.find((l) => l['code'] === 'E_WORKER_CRASHED')).toMatchObject({ level: 50, reason: 'Error' });
    expect(text()).not.toContain(secret);
  });

  it('never appear in error messages, causes or logs when a secret is passed as bad input', async () => {
    const secret = `sk-misused-${Math.random().toString(36).slice(2)}`;
    const { logger, text } = capturingLogger();
    const pool = pools.create({ logger, probes: { providers: { a: [{ kind: 'env', vars: ['A'] }] } } });
    const errors: unknown[] = [];
    const attempts: (() => unknown)[] = [
      // A check answers false for an id no provider can have; explain() and warm() say why, with the code.
      () => pool.explain(`${secret}/x`),
      () => pool.explain(secret.repeat(40)),
      () => pool.createChecker()('a', `${secret}\0`),
      () => pool.hasAuth('a', { env: { KEY: 42 as unknown as string, OTHER: secret }, agentDir: `\0${secret}` }),
      () => pool.warm(['a', `../${secret}`]),
      () => createAuthProbePool({ probes: { providers: { a: [{ kind: 'env', vars: [`${secret}-`] }] } } }),
      () => createAuthProbePool({ probes: { providers: { a: [{ kind: 'credentialFile', path: 'x', pointer: secret }] } } }),
    ];
    for (const attempt of attempts) {
      try {
        await attempt();
      } catch (err) {
        errors.push(err);
      }
    }
    expect(errors).toHaveLength(attempts.length);
    expect(await pool.hasAuth(`${secret}/x`)).toBe(false);
    const seen = (err: unknown): string => {
      const e = err as Error & { code?: string; cause?: unknown };
      return [e.message, e.code, e.stack, e.cause === undefined ? '' : seen(e.cause), JSON.stringify(e)].join('\n');
    };
    for (const err of errors) expect(err).toBeInstanceOf(AuthProbeError);
    expect(errors.map(seen).join('\n') + text()).not.toContain(secret);
    expect(JSON.stringify(pool.stats())).not.toContain(secret);
  });
});
