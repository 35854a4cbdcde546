import { readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AuthChangeEvent, AuthProbePool } from 'auth-probe-pool';
import { capturingLogger } from './helpers/pools.js';
import { eventually } from './helpers/processes.js';
import { fakeCli } from './helpers/temp.js';
import { useFixture } from './helpers/fixture.js';

/** Resolves with the next `change` event of the pool. */
const nextChange = (pool: AuthProbePool) => new Promise<AuthChangeEvent>((resolve) => pool.once('change', resolve));
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('answers follow the credential files', () => {
  const { dir, pools } = useFixture();
  const codex = { kind: 'credentialFile' as const, path: '~/.codex/auth.json', pointer: '/tokens/access_token' };
  let homes = 0;
  /** A fresh home dir per test, so their watchers never see each other's files. */
  const home = () => dir.path(`home${++homes}`);

  it('turns true when a CLI login creates the file (missing directory included), with no invalidate()', async () => {
    const h = home();
    const pool = pools.create({ probes: { providers: { 'openai-codex': [codex] } }, env: { HOME: h } });
    const check = pool.createChecker();
    expect(await check('openai-codex')).toBe(false);
    const changed = nextChange(pool);
    dir.write(`${h.slice(dir.root.length + 1)}/.codex/auth.json`, { tokens: { access_token: 'sk-login' } });
    expect(await changed).toMatchObject({ provider: 'openai-codex', previous: false, current: true });
    expect(await check('openai-codex')).toBe(true);
  });

  it('follows a directory replaced whole (rm -rf ~/.codex; mkdir; a new login): a later logout is seen, with no verify pass', async () => {
    const h = home();
    const rel = `${h.slice(dir.root.length + 1)}/.codex`;
    dir.write(`${rel}/auth.json`, { tokens: { access_token: 'sk-1' } });
    const pool = pools.create({ probes: { providers: { 'openai-codex': [codex] } }, env: { HOME: h }, watch: { verifyMs: 0 } });
    const check = pool.createChecker();
    expect(await check('openai-codex')).toBe(true);
    // What a re-login does, at once: the old directory (and the inode a watch on it follows) is gone.
    rmSync(dir.path(rel), { recursive: true });
    const file = dir.write(`${rel}/auth.json`, { tokens: { access_token: 'sk-2' } });
    await settle(300);
    expect(await check('openai-codex')).toBe(true);
    const changed = nextChange(pool);
    unlinkSync(file);
    expect(await Promise.race([changed, settle(5000).then(() => 'no event')])).toMatchObject({ previous: true, current: false });
    expect(await check('openai-codex')).toBe(false);
  });

  it('turns false when the file is deleted, and sees a replacement by rename', async () => {
    const h = home();
    const rel = `${h.slice(dir.root.length + 1)}/.codex`;
    const file = dir.write(`${rel}/auth.json`, { tokens: { access_token: 'sk-1' } });
    const pool = pools.create({ probes: { providers: { 'openai-codex': [codex] } }, env: { HOME: h } });
    const check = pool.createChecker();
    expect(await check('openai-codex')).toBe(true);
    let changed = nextChange(pool);
    unlinkSync(file);
    expect(await changed).toMatchObject({ previous: true, current: false });
    expect(await check('openai-codex')).toBe(false);
    // Written aside, then renamed over: as editors and CLIs do.
    changed = nextChange(pool);
    const tmp = dir.write(`${rel}/auth.json.tmp-123`, { tokens: { access_token: 'sk-2' } });
    renameSync(tmp, file);
    expect(await changed).toMatchObject({ previous: false, current: true });
    expect(await check('openai-codex')).toBe(true);
    // And a second rename that empties the token.
    changed = nextChange(pool);
    renameSync(dir.write(`${rel}/auth.json.tmp-456`, { tokens: { access_token: '' } }), file);
    expect(await changed).toMatchObject({ previous: true, current: false });
  });

  it('does not re-probe when an unrelated file in the same directory changes', async () => {
    const h = home();
    const rel = `${h.slice(dir.root.length + 1)}/.codex`;
    dir.write(`${rel}/auth.json`, { tokens: { access_token: 'sk-1' } });
    const pool = pools.create({ probes: { providers: { 'openai-codex': [codex] } }, env: { HOME: h }, watch: { debounceMs: 20 } });
    expect(await pool.hasAuth('openai-codex')).toBe(true);
    await settle(100); // the post-publish check of the fingerprints
    const before = pool.stats();
    for (let i = 0; i < 20; i++) dir.write(`${rel}/history-${i}.jsonl`, `{"line":${i}}`);
    dir.write(`${rel}/config.toml`, 'model = "x"');
    await settle(300); // many debounce periods
    const after = pool.stats();
    expect(after.refreshes).toBe(before.refreshes);
    expect(after.dispatches).toBe(before.dispatches);
    expect(await pool.hasAuth('openai-codex')).toBe(true);
    expect(pool.stats().dispatches).toBe(before.dispatches);
  });

  it('re-probes once for a burst of 100 writes', async () => {
    const h = home();
    const rel = `${h.slice(dir.root.length + 1)}/.codex`;
    const file = dir.write(`${rel}/auth.json`, { tokens: { access_token: '' } });
    const pool = pools.create({ probes: { providers: { 'openai-codex': [codex] } }, env: { HOME: h } });
    expect(await pool.hasAuth('openai-codex')).toBe(false);
    await settle(100);
    const before = pool.stats();
    const changed = nextChange(pool);
    for (let i = 0; i < 100; i++) writeFileSync(file, JSON.stringify({ tokens: { access_token: `sk-${i}` }, i }));
    await changed;
    await settle(300);
    const after = pool.stats();
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.providersProbed - before.providersProbed).toBe(1);
    expect(await pool.hasAuth('openai-codex')).toBe(true);
  });

  it('publishes a warm that a file change overtakes, with the changed provider re-probed', async () => {
    const h = home();
    const rel = `${h.slice(dir.root.length + 1)}/.codex`;
    const file = dir.write(`${rel}/auth.json`, { tokens: { access_token: 'sk-1' } });
    const slow = fakeCli(dir, 'slow', 'setTimeout(() => process.exit(0), 600);');
    const pool = pools.create({ probes: { providers: { 'openai-codex': [codex], slow: [{ kind: 'command', command: slow }] } }, env: { HOME: h } });
    expect(await pool.hasAuth('openai-codex')).toBe(true);
    const warming = pool.warm(['slow', 'openai-codex']);
    await settle(100);
    writeFileSync(file, JSON.stringify({ tokens: { access_token: '' } }));
    const report = await warming;
    expect(report.published).toBe(true);
    expect(report.answers['slow']).toBe(true);
    expect(await eventually(() => pool.stats().changes === 1)).toBe(true);
    expect(await pool.hasAuth('openai-codex')).toBe(false);
    expect(await pool.hasAuth('slow')).toBe(true);
  });

  it('answers an expired check at once from the cache while the refresh runs in the pool', async () => {
    const marks = dir.path('swr-marks.txt');
    writeFileSync(marks, '');
    const cli = fakeCli(
      dir,
      'swr',
      `const fs = require('fs'); fs.appendFileSync(${JSON.stringify(marks)}, 'start\\n'); setTimeout(() => { fs.appendFileSync(${JSON.stringify(marks)}, 'end\\n'); process.exit(0); }, 500);`,
    );
    const pool = pools.create({ probes: { providers: { swr: [{ kind: 'command', command: cli }] } }, cacheTtlMs: { positive: 50, staleWhileRevalidate: 60_000 } });
    const check = pool.createChecker();
    expect(await check('swr')).toBe(true);
    await settle(100); // expired unused, still within the stale window
    expect(await check('swr')).toBe(true);
    const ends = () =>
      readFileSync(marks, 'utf8')
        .split('\n')
        .filter((l) => l === 'end').length;
    expect(ends()).toBe(1); // answered before the refresh finished
    expect(pool.stats()).toMatchObject({ staleHits: 1, refreshes: 1 });
    expect(await eventually(() => ends() === 2)).toBe(true);
    await eventually(() => pool.stats().answersInFlight === 0);
    const dispatches = pool.stats().dispatches;
    expect(await check('swr')).toBe(true);
    // The refreshed answer is kept and fresh again: no dispatch, and not served stale.
    expect(pool.stats()).toMatchObject({ dispatches, staleHits: 1 });
  });

  it('refreshes a used answer in the background when it expires: checks keep being answered at once meanwhile', async () => {
    const marks = dir.path('ahead-marks.txt');
    writeFileSync(marks, '');
    const cli = fakeCli(dir, 'ahead', `require('fs').appendFileSync(${JSON.stringify(marks)}, 'run\\n'); process.exit(0);`);
    const pool = pools.create({ probes: { providers: { ahead: [{ kind: 'command', command: cli }] } }, cacheTtlMs: { positive: 300 } });
    const check = pool.createChecker();
    expect(await check('ahead')).toBe(true);
    const runs = () => readFileSync(marks, 'utf8').split('\n').filter(Boolean).length;
    // Checked all along: refreshed when due, never served stale, never waited for.
    for (let i = 0; i < 200 && runs() < 3; i++) {
      expect(await check('ahead')).toBe(true);
      await settle(20);
    }
    expect(runs()).toBeGreaterThanOrEqual(3);
    expect(pool.stats()).toMatchObject({ staleHits: 0 });
    expect(pool.stats().refreshes).toBeGreaterThanOrEqual(2);
  });

  it('follows files by fingerprint on an interval when watching is off', async () => {
    const h = home();
    const rel = `${h.slice(dir.root.length + 1)}/.codex`;
    const { logger, lines } = capturingLogger();
    const pool = pools.create({ probes: { providers: { 'openai-codex': [codex] } }, env: { HOME: h }, watch: { enabled: false, pollMs: 50 }, logger });
    expect(await pool.hasAuth('openai-codex')).toBe(false);
    expect(pool.stats().watchMode).toBe('poll');
    const changed = nextChange(pool);
    dir.write(`${rel}/auth.json`, { tokens: { access_token: 'sk-polled' } });
    expect(await changed).toMatchObject({ current: true });
    expect(lines.some((l) => l['msg'] === 'auth changed' && l['provider'] === 'openai-codex')).toBe(true);
    rmSync(dir.path(rel), { recursive: true });
  });
});
