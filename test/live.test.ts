/**
 * Answers under a live gateway: files rewritten in place, hung CLIs, garbage
 * ids, many scopes, and `change` listeners that throw. Real files, real
 * threads, real child processes.
 */
import { closeSync, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { AuthChangeEvent, AuthProbePool } from 'auth-probe-pool';
import { capturingLogger } from './helpers/pools.js';
import { eventually } from './helpers/processes.js';
import { useFixture } from './helpers/fixture.js';
import { markLines, shellCli } from './helpers/temp.js';

/** The suite runs with CLIs spawned both ways: the pool's helper (the default) and the worker threads. */
const SPAWN_VIA = ['helper', 'worker'] as const;

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every `change` event of the pool, as `provider:previous→current`. */
function recordChanges(pool: AuthProbePool): string[] {
  const seen: string[] = [];
  pool.on('change', (e: AuthChangeEvent) => seen.push(`${e.provider}:${e.previous}→${e.current}`));
  return seen;
}

const runsOf = (mark: string) => markLines(mark).length;

/** Rewrites a file in place, as a gateway updating usage counters does: truncate, then a few writes with turns of the loop between. */
async function rewriteInPlace(file: string, text: string): Promise<void> {
  const buf = Buffer.from(text);
  const fd = openSync(file, 'r+');
  try {
    ftruncateSync(fd, 0);
    const step = Math.ceil(buf.length / 4);
    for (let off = 0; off < buf.length; off += step) {
      writeSync(fd, buf, off, Math.min(step, buf.length - off), off);
      await turn();
    }
  } finally {
    closeSync(fd);
  }
}

describe.each(SPAWN_VIA)('a failure never replaces a known answer (CLIs spawned from the %s)', (spawnVia) => {
  const { dir, pools } = useFixture({ pool: { spawnVia } });
  const codex = { kind: 'credentialFile' as const, path: '~/.codex/auth.json', pointer: '/tokens/access_token' };

  it('keeps serving true through a half-written credential file: no event, still watched, degraded until whole again', async () => {
    const home = dir.path('half');
    const file = dir.write('half/.codex/auth.json', { tokens: { access_token: 'sk-whole' } });
    const pool = pools.create({ probes: { providers: { codex: [codex] } }, env: { HOME: home } });
    const changes = recordChanges(pool);
    const check = pool.createChecker();
    expect(await check('codex')).toBe(true);
    // What a reader sees in the middle of a non-atomic write.
    writeFileSync(file, '{"tokens": {"access_');
    expect(await eventually(() => pool.stats().degraded === 1)).toBe(true);
    expect(await check('codex')).toBe(true);
    expect((await pool.explain('codex')).kept).toMatchObject({ auth: true, degraded: true });
    expect(pool.stats().watchedPaths).toBe(1);
    // Whole again: no longer degraded, and never an event either way.
    writeFileSync(file, JSON.stringify({ tokens: { access_token: 'sk-whole-2' } }));
    expect(await eventually(() => pool.stats().degraded === 0)).toBe(true);
    expect(await check('codex')).toBe(true);
    expect(changes).toEqual([]);
  });

  it('reports a logout and a login as exactly one flip each way', async () => {
    const home = dir.path('flip');
    const file = dir.write('flip/.codex/auth.json', { tokens: { access_token: 'sk-1' } });
    const pool = pools.create({ probes: { providers: { codex: [codex] } }, env: { HOME: home } });
    const changes = recordChanges(pool);
    expect(await pool.hasAuth('codex')).toBe(true);
    unlinkSync(file);
    expect(await eventually(() => changes.length === 1)).toBe(true);
    expect(await pool.hasAuth('codex')).toBe(false);
    dir.write('flip/.codex/auth.json', { tokens: { access_token: 'sk-2' } });
    expect(await eventually(() => changes.length === 2)).toBe(true);
    expect(await pool.hasAuth('codex')).toBe(true);
    await settle(200);
    expect(changes).toEqual(['codex:true→false', 'codex:false→true']);
  });

  it('keeps a CLI-backed true while the CLI hangs, and recovers in the background when it answers again', async () => {
    const mark = dir.path('flaky.mark');
    const flag = dir.path('flaky.hang');
    const cli = shellCli(dir, 'flaky', mark, `[ -e '${flag}' ] && exec sleep 30\nexit 0`);
    const pool = pools.create({
      probes: { providers: { keychain: [{ kind: 'command', command: cli, timeoutMs: 300 }] } },
      // The hang is cut short well within `positive`: a failure that lasted longer would be believed (see failures that last).
      cacheTtlMs: { positive: 1500 },
      failureBackoffMs: { initial: 200, max: 200 },
    });
    const changes = recordChanges(pool);
    const check = pool.createChecker();
    expect(await check('keychain')).toBe(true);
    writeFileSync(flag, '');
    // Used, so refreshed when due; the refresh times out, and the answer stays true, degraded.
    for (let i = 0; i < 100 && pool.stats().degraded === 0; i++) {
      expect(await check('keychain')).toBe(true);
      await settle(50);
    }
    expect(pool.stats().degraded).toBe(1);
    expect((await pool.explain('keychain', undefined, { stopAtFirst: true })).kept).toMatchObject({ auth: true, degraded: true });
    unlinkSync(flag);
    for (let i = 0; i < 100 && pool.stats().degraded === 1; i++) {
      expect(await check('keychain')).toBe(true);
      await settle(50);
    }
    expect(pool.stats().degraded).toBe(0);
    expect(changes).toEqual([]);
  });
});

describe.each(SPAWN_VIA)('a gateway that rewrites its own store on every request (CLIs spawned from the %s)', (spawnVia) => {
  const { dir, pools } = useFixture({ pool: { spawnVia } });

  it('gives 0 wrong answers and 0 events while the store is rewritten in place, and runs an unrelated CLI once', async () => {
    const mark = dir.path('cli.mark');
    const cli = shellCli(dir, 'keychain', mark, 'echo ok');
    const store = { kind: 'authProfiles' as const, path: '{agentDir}/auth-profiles.json' };
    const providers: Record<string, (typeof store | { kind: 'command'; command: string; requireStdout: boolean })[]> = {};
    const expected = new Map<string, boolean>();
    for (let i = 0; i < 8; i++) {
      providers[`p${i}`] = [store];
      expected.set(`p${i}`, i < 6);
    }
    providers['withcli'] = [store, { kind: 'command', command: cli, requireStdout: true }];
    expected.set('withcli', true);
    const storeText = (n: number) => {
      const profiles: Record<string, object> = {};
      for (let i = 0; i < 6; i++) profiles[`p${i}:default`] = { type: 'api_key', provider: `p${i}`, key: `sk-${i}` };
      const usage: Record<string, object> = {};
      for (let i = 0; i < 2000; i++) usage[`u${i}`] = { lastUsed: 1_700_000_000_000 + n * 100 + i, requests: n + i };
      return JSON.stringify({ version: 1, profiles, usageStats: usage });
    };
    const storeFile = dir.write('gw/agent/auth-profiles.json', storeText(0));
    const scope = { agentDir: dir.path('gw/agent') };
    const pool = pools.create({ probes: { providers }, watch: { debounceMs: 20 } });
    const changes = recordChanges(pool);
    const check = pool.createChecker(scope);
    for (const [p, want] of expected) expect(await check(p)).toBe(want);
    expect(runsOf(mark)).toBe(1);
    const reruns = pool.stats().probesRunByKind;
    let wrong = 0;
    let checks = 0;
    let writing = true;
    const writer = (async () => {
      for (let n = 1; writing; n++) {
        await rewriteInPlace(storeFile, storeText(n));
        await settle(50 + (n % 5) * 10); // every 50-100 ms
      }
    })();
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      const answers = await Promise.all([...expected.keys()].map((p) => check(p)));
      checks += answers.length;
      for (const [i, want] of [...expected.values()].entries()) if (answers[i] !== want) wrong++;
      await settle(10);
    }
    writing = false;
    await writer;
    await settle(300);
    const after = pool.stats();
    expect(checks).toBeGreaterThan(100);
    expect(wrong).toBe(0);
    expect(changes).toEqual([]);
    expect(runsOf(mark)).toBe(1);
    expect(after.probesRunByKind.command).toBe(reruns.command);
    // The store's readers were re-run, and the store is still followed.
    expect(after.probesRunByKind.authProfiles).toBeGreaterThan(reruns.authProfiles);
    expect(after.watchedPaths).toBeGreaterThanOrEqual(1);
    expect(after.degraded).toBe(0);
  });
});

describe.each(SPAWN_VIA)('failures are remembered (CLIs spawned from the %s)', (spawnVia) => {
  const { dir, pools } = useFixture({ pool: { spawnVia } });

  it('waits for a hung CLI once across repeated sweeps', async () => {
    const mark = dir.path('hung.mark');
    const hung = shellCli(dir, 'hung', mark, 'exec sleep 30');
    const providers: Record<string, object[]> = { keychain: [{ kind: 'command', command: hung, timeoutMs: 300 }] };
    const env: Record<string, string> = {};
    for (let i = 0; i < 20; i++) {
      providers[`e${i}`] = [{ kind: 'env', vars: [`E${i}_KEY`] }];
      if (i % 2 === 0) env[`E${i}_KEY`] = 'set';
    }
    const pool = pools.create({ probes: { providers } as never, env });
    const ids = Object.keys(providers);
    const warmed = await pool.warm(ids);
    expect(warmed.failed).toEqual(['keychain']);
    const check = pool.createChecker();
    for (let sweep = 0; sweep < 5; sweep++) {
      // The sweep is answered before the CLI's timeout could have passed: nobody waits for the CLI.
      let timerFired = false;
      const timer = setTimeout(() => (timerFired = true), 300);
      const answers = await Promise.all(ids.map((id) => check(id)));
      expect(timerFired).toBe(false);
      clearTimeout(timer);
      expect(answers.filter(Boolean)).toHaveLength(10);
    }
    expect(pool.stats().probesRunByKind.command).toBe(1);
    expect(runsOf(mark)).toBeLessThanOrEqual(1);
  });
});

describe.each(SPAWN_VIA)('failures are remembered past the stale window (CLIs spawned from the %s)', (spawnVia) => {
  const { dir, pools } = useFixture({ pool: { spawnVia } });

  it('keeps an unused failure until its longest backoff: a check much later is still answered at once', async () => {
    const mark = dir.path('later.mark');
    const hung = shellCli(dir, 'hung-later', mark, 'exec sleep 30');
    const pool = pools.create({
      probes: { providers: { keychain: [{ kind: 'command', command: hung, timeoutMs: 300 }] } },
      failureBackoffMs: { initial: 100, max: 60_000 },
      cacheTtlMs: { staleWhileRevalidate: 100 },
    });
    const check = pool.createChecker();
    expect(await check('keychain')).toBe(false);
    await settle(800); // past the backoff and the stale window, unused all along
    expect(pool.stats().answers).toBe(1);
    let timerFired = false;
    const timer = setTimeout(() => (timerFired = true), 0);
    expect(await check('keychain')).toBe(false);
    expect(timerFired).toBe(false); // answered from memory; the retry runs in the background
    clearTimeout(timer);
    expect(pool.stats().staleHits).toBe(1);
  });
});

describe('bounded memory', () => {
  const { dir, pools } = useFixture();

  it('lets tens of thousands of one-off ids leave memory and their watches once expired; a later store write re-probes none of them', async () => {
    const storeFile = dir.write('ids/auth-profiles.json', { profiles: { 'real:default': { type: 'api_key', provider: 'real', key: 'sk-1' } } });
    const pool = pools.create({
      probes: { providers: { real: [{ kind: 'env', vars: ['NOPE'] }] }, defaults: [{ kind: 'authProfiles', path: storeFile }] },
      env: {},
      cacheTtlMs: { positive: 300, negative: 300, staleWhileRevalidate: 300 },
    });
    const check = pool.createChecker();
    for (let i = 0; i < 20_000; i += 1000) {
      const chunk = [];
      for (let j = i; j < i + 1000; j++) chunk.push(check(`garbage-${j}`));
      expect((await Promise.all(chunk)).some(Boolean)).toBe(false);
    }
    expect(pool.stats().answers).toBeGreaterThan(1000);
    expect(await eventually(() => pool.stats().answers === 0, 15_000)).toBe(true);
    expect(pool.stats()).toMatchObject({ answers: 0, scopes: 0, watchedPaths: 0 });
    expect(pool.stats().evictions).toBeGreaterThanOrEqual(20_000);
    const probed = pool.stats().probesRun;
    writeFileSync(storeFile, JSON.stringify({ profiles: {} }));
    await settle(300);
    expect(pool.stats().probesRun).toBe(probed);
  });

  it('keeps at most maxAnswers, dropping the least recently used', async () => {
    const pool = pools.create({ probes: { providers: {}, defaults: [{ kind: 'env', vars: ['NOPE'] }] }, env: {}, maxAnswers: 500 });
    const check = pool.createChecker();
    expect(await check('keep-me')).toBe(false);
    for (let i = 0; i < 3000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => check(`id-${i + j}`)));
      expect(await check('keep-me')).toBe(false); // used between batches: survives the sweeps
    }
    expect(pool.stats().answers).toBeLessThanOrEqual(500);
    const dispatches = pool.stats().dispatches;
    expect(await check('keep-me')).toBe(false);
    expect(pool.stats().dispatches).toBe(dispatches);
  });
});

describe.each(SPAWN_VIA)('invalidate() and scopes (CLIs spawned from the %s)', (spawnVia) => {
  const { dir, pools } = useFixture({ pool: { spawnVia } });

  it('is a barrier: a check made after invalidate() never gets an answer from a dispatch that started before it', async () => {
    const env: Record<string, string> = { PATH: '/usr/bin:/bin', TOKEN_OK: 'yes' };
    const cli = dir.write('bin/slow-env', `#!/bin/sh\nsleep 0.4\n[ "$TOKEN_OK" = yes ]\n`, 0o755);
    const pool = pools.create({ probes: { providers: { k: [{ kind: 'command', command: cli, passEnv: ['TOKEN_OK'] }] } }, env });
    const check = pool.createChecker();
    const before = check('k'); // reads TOKEN_OK=yes, for 0.4 s
    await settle(150);
    env['TOKEN_OK'] = 'no';
    pool.invalidate();
    const after = check('k');
    expect(await before).toBe(true); // made before invalidate(): the old dispatch may answer it
    expect(await after).toBe(false);
    expect(await check('k')).toBe(false); // and the old answer was not kept
    expect(await pool.hasAuth('k')).toBe(false);
  });

  it('keeps a long-lived checker attached past maxScopes: it follows invalidate() and warm()', async () => {
    const env: Record<string, string> = { K: 'set' };
    const pool = pools.create({ probes: { providers: { k: [{ kind: 'env', vars: ['K'] }] } }, env, maxScopes: 4 });
    const scope = { agentId: 'long-lived' };
    const check = pool.createChecker(scope);
    expect(await check('k')).toBe(true);
    for (let i = 0; i < 10; i++) expect(await pool.hasAuth('k', { agentId: `other-${i}` })).toBe(true);
    expect(pool.stats().scopes).toBeLessThanOrEqual(4);
    delete env['K'];
    pool.invalidate();
    expect(await check('k')).toBe(false);
    env['K'] = 'back';
    const warmed = await pool.warm(['k'], scope);
    expect(warmed.answers).toEqual({ k: true });
    const dispatches = pool.stats().dispatches;
    expect(await check('k')).toBe(true); // the warm's answer, in the checker's own scope
    expect(pool.stats().dispatches).toBe(dispatches);
  });
});

describe('change listeners', () => {
  const { dir, pools } = useFixture();

  it('isolates a listener that throws: the check or warm that published the flip resolves, other listeners still hear it', async () => {
    const home = dir.path('listen');
    const file = dir.write('listen/.codex/auth.json', { tokens: { access_token: 'sk-1' } });
    const { logger, lines } = capturingLogger();
    const pool = pools.create({
      probes: { providers: { codex: [{ kind: 'credentialFile', path: '~/.codex/auth.json', pointer: '/tokens/access_token' }] } },
      env: { HOME: home },
      watch: { enabled: false, pollMs: 60_000 },
      logger,
    });
    pool.on('change', () => {
      throw new TypeError('listener bug');
    });
    const heard = recordChanges(pool);
    expect(await pool.hasAuth('codex')).toBe(true);
    unlinkSync(file);
    // No watch event will come (polling every minute): the warm probes again and publishes the flip itself.
    const report = await pool.warm(['codex']);
    expect(report).toMatchObject({ published: true, answers: { codex: false } });
    expect(heard).toEqual(['codex:true→false']);
    expect(pool.stats().listenerErrors).toBe(1);
    expect(lines.some((l) => l['msg'] === 'change listener threw' && l['level'] === 50)).toBe(true);
    expect(await pool.hasAuth('codex')).toBe(false);
  });
});

describe('answers follow the clock', () => {
  const { dir, pools } = useFixture();

  it('re-judges an answer that rests on an expiry at that moment: a change event, with no file write, no check and no polling', async () => {
    // The premise, established rather than assumed: the first check answered true before the token's expiry. A
    // loaded machine may take longer than the token's life to start a pool and answer: then again, with a longer one.
    for (let lifeMs = 1500; ; lifeMs *= 2) {
      expect(lifeMs, "a first check within the token's life, within a minute").toBeLessThan(60_000);
      const expires = Date.now() + lifeMs;
      const store = dir.write(`clock-${lifeMs}/auth-profiles.json`, { profiles: { 'acme:default': { type: 'token', provider: 'acme', token: 'tok-live', expires } } });
      const pool = pools.create({
        probes: { providers: { acme: [{ kind: 'authProfiles', path: store }] } },
        expirySkewMs: 0,
        watch: { enabled: false, pollMs: 600_000, verifyMs: 0 },
      });
      const changes = recordChanges(pool);
      const check = pool.createChecker();
      if (!(await check('acme')) || Date.now() >= expires) continue;
      // Nobody checks again: the expiry alone flips it.
      expect(await eventually(() => changes.length === 1, 10_000)).toBe(true);
      expect(changes).toEqual(['acme:true→false']);
      expect(await check('acme')).toBe(false);
      expect((await pool.explain('acme')).probes[0]?.error?.code).toBe('E_PROFILE_NOT_USABLE');
      return;
    }
  }, 240_000);
});
