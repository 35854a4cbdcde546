import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type AuthProbeError, createAuthProbePool } from 'auth-probe-pool';
import { eventually } from './helpers/processes.js';
import { fakeCli } from './helpers/temp.js';
import { useFixture } from './helpers/fixture.js';

const threadCount = () => readdirSync('/proc/self/task').length;

describe('load', () => {
  const { dir, pools } = useFixture({ monitor: 'faults.load' });
  const profiles: Record<string, object> = {};
  for (let i = 0; i < 300; i += 2) profiles[`p${i}:default`] = { type: 'api_key', provider: `p${i}`, key: 'sk-load' };
  dir.write('agent/auth-profiles.json', { version: 1, profiles });
  const providers = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, [{ kind: 'authProfiles' as const, path: '{agentDir}/auth-profiles.json' }]]));

  it('coalesces 10,000 concurrent checks over 300 providers into 300 provider probes', async () => {
    const pool = pools.create({ probes: { providers } });
    const check = pool.createChecker({ agentDir: dir.path('agent') });
    const heapBefore = process.memoryUsage().heapUsed;
    const answers = await Promise.all(Array.from({ length: 10_000 }, (_, i) => check(`p${i % 300}`)));
    expect(answers.filter(Boolean)).toHaveLength(5000);
    const stats = pool.stats();
    expect(stats.providersProbed).toBe(300);
    expect(stats.coalesced).toBe(10_000 - 300);
    expect(stats.dispatches).toBeLessThan(300);
    expect(stats.answersInFlight).toBe(0);
    // Bounded: nothing per check outlives it (a loose bound; the point is no per-check retention).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('rejects checks beyond maxQueue with a typed E_QUEUE_FULL instead of growing, and answers the rest', async () => {
    const slow = fakeCli(dir, 'slow', 'setTimeout(() => process.exit(0), 300);');
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`s${i}`, [{ kind: 'command' as const, command: slow }]]));
    const pool = pools.create({ probes: { providers: many }, maxQueue: 8 });
    const check = pool.createChecker();
    const outcomes = await Promise.all(Object.keys(many).map((p) => check(p).then(String, (e: AuthProbeError) => e.code)));
    expect(outcomes.filter((o) => o === 'true')).toHaveLength(8);
    expect(outcomes.filter((o) => o === 'E_QUEUE_FULL')).toHaveLength(12);
    // Nothing was lost: once the queue drains, the rejected ones can be asked again.
    expect(await check('s19')).toBe(true);
  });

  it('a warm of 200 providers with maxQueue 16 and batchSize 4 answers every provider', async () => {
    // maxQueue bounds answers with a run under way, for checks of new ones; a warm's 200 answers make 50 tasks, which
    // must all reach the workers rather than be refused by a second limit on tasks.
    const keyed = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`w${i}`, [{ kind: 'env' as const, vars: [`W${i}_API_KEY`] }]]));
    const env = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`W${i}_API_KEY`, i % 2 === 0 ? 'sk-warm' : undefined]));
    const pool = pools.create({ probes: { providers: keyed }, env, maxQueue: 16, batchSize: 4 });
    const report = await pool.warm(Object.keys(keyed));
    expect(report.failed).toEqual([]);
    expect(Object.keys(report.answers)).toHaveLength(200);
    expect(Object.entries(report.answers).filter(([, auth]) => auth)).toHaveLength(100);
    expect(report.answers.w0).toBe(true);
    expect(report.answers.w1).toBe(false);
    expect(report.dispatches).toBeGreaterThanOrEqual(50);
    expect(pool.stats().answersInFlight).toBe(0);
  });

  // 25 pools each start a worker thread: a few seconds idle, but past the default 30 s timeout on a loaded 2-core machine.
  it('leaks no thread or listener over many pools created and closed in one process', async () => {
    const listenersBefore = process.listenerCount('exit') + process.listenerCount('uncaughtException');
    const before = threadCount();
    for (let i = 0; i < 25; i++) {
      const pool = createAuthProbePool({ probes: { providers }, threads: { min: 1, max: 2 } });
      await pool.warm(['p0', 'p1', 'p2', 'p3'], { agentDir: dir.path('agent') });
      await pool.close();
    }
    expect(await eventually(() => threadCount() <= before)).toBe(true);
    expect(process.listenerCount('exit') + process.listenerCount('uncaughtException')).toBe(listenersBefore);
  }, 120_000);
});

describe('bad input', () => {
  const { dir, pools } = useFixture();
  dir.write('home/.codex/auth.json', { tokens: { access_token: 'sk-inside' } });
  dir.write('outside/auth.json', { tokens: { access_token: 'sk-outside' } });

  it('refuses a template value that climbs out with "..", from env or scope', async () => {
    const pool = pools.create({
      probes: {
        providers: {
          viaenv: [{ kind: 'credentialFile', path: '$CODEX_HOME/auth.json', pointer: '/tokens/access_token' }],
          viascope: [{ kind: 'credentialFile', path: '{workspaceDir}/auth.json', pointer: '/tokens/access_token' }],
        },
      },
      env: { CODEX_HOME: `${dir.path('home')}/../outside` },
    });
    const report = await pool.explain('viaenv');
    expect(report.auth).toBe(false);
    expect(report.probes[0]?.error?.code).toBe('E_PATH_REFUSED');
    // A scope directory is resolved to an absolute path first, so it cannot smuggle "..".
    expect(await pool.hasAuth('viascope', { workspaceDir: dir.path('outside') })).toBe(true);
  });

  it('refuses a path that resolves outside allowedRoots', async () => {
    const pool = pools.create({
      allowedRoots: ['~'],
      env: { HOME: dir.path('home') },
      probes: {
        providers: {
          inside: [{ kind: 'credentialFile', path: '~/.codex/auth.json', pointer: '/tokens/access_token' }],
          escape: [{ kind: 'credentialFile', path: '~/../outside/auth.json', pointer: '/tokens/access_token' }],
          absolute: [{ kind: 'credentialFile', path: dir.path('outside/auth.json'), pointer: '/tokens/access_token' }],
        },
      },
    });
    expect(await pool.hasAuth('inside')).toBe(true);
    for (const provider of ['escape', 'absolute']) {
      const report = await pool.explain(provider);
      expect(report.auth).toBe(false);
      expect(report.probes[0]?.error?.code).toBe('E_PATH_REFUSED');
    }
  });
});
