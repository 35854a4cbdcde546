import { describe, expect, it } from 'vitest';
import { WARM_WINDOW } from '../src/answers/book.js';
import { fakeCli } from './helpers/temp.js';
import { useFixture } from './helpers/fixture.js';

describe('warm, the prepared snapshot, and invalidate', () => {
  const { dir, pools } = useFixture();
  const slow = fakeCli(dir, 'slow-ok', `setTimeout(() => process.exit(0), 300);`);
  const profiles: Record<string, object> = {};
  for (let i = 0; i < 300; i++) if (i % 3 === 0) profiles[`p${i}:default`] = { type: 'api_key', provider: `p${i}`, key: 'sk-store' };
  dir.write('agent/auth-profiles.json', { version: 1, profiles });
  const providers = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, [{ kind: 'authProfiles' as const, path: '{agentDir}/auth-profiles.json' }]]));
  const scope = { agentDir: dir.path('agent') };

  it('sweeps 300 providers in a few tasks; later checks answer from the snapshot with zero dispatches', async () => {
    const pool = pools.create({ probes: { providers } });
    const report = await pool.warm(Object.keys(providers), scope);
    expect(report.published).toBe(true);
    expect(Object.keys(report.answers)).toHaveLength(300);
    expect(Object.values(report.answers).filter(Boolean)).toHaveLength(100);
    expect(report.dispatches).toBeLessThanOrEqual(Math.ceil(300 / 32) + 2);
    const dispatches = pool.stats().dispatches;
    const check = pool.createChecker(scope);
    const answers = await Promise.all(Object.keys(providers).map((p) => check(p)));
    expect(answers.filter(Boolean)).toHaveLength(100);
    expect(pool.stats().dispatches).toBe(dispatches);
    expect(pool.stats().snapshotHits).toBe(300);
  });

  it('sends a small warm in one or two tasks, and still spreads a large sweep over the threads', async () => {
    const pool = pools.create({ probes: { providers }, threads: { min: 1, max: 2 } });
    expect((await pool.warm(Object.keys(providers).slice(0, 6), scope)).dispatches).toBeLessThanOrEqual(2);
    expect((await pool.warm(Object.keys(providers).slice(0, 3), scope)).dispatches).toBe(1);
    const sweep = await pool.warm(Object.keys(providers), scope);
    expect(sweep.dispatches).toBeGreaterThanOrEqual(8);
    expect(sweep.dispatches).toBeLessThanOrEqual(Math.ceil(300 / 32) + 2);
  });

  /** Ten windows of env providers, `<prefix>0` … each reading its own variable: a warm of them outlasts its first window. */
  const manyEnvProviders = (prefix: string) =>
    Object.fromEntries(Array.from({ length: 10 * WARM_WINDOW }, (_, i) => [`${prefix}${i}`, [{ kind: 'env' as const, vars: [`${prefix.toUpperCase()}${i}`] }]]));
  /** Until `pool` has a run under way: a large warm's first window is, the rest not taken in yet. */
  const firstWindowUnderWay = async (pool: { stats(): { answersInFlight: number } }) => {
    while (pool.stats().answersInFlight === 0) await new Promise((r) => setImmediate(r));
  };

  it('takes a large warm in a window at a time: never more runs under way than the window, and a check made meanwhile waits for a window, not the warm', async () => {
    const many = manyEnvProviders('w');
    const pool = pools.create({ probes: { providers: { ...many, other: [{ kind: 'env', vars: ['OTHER'] }] } }, env: { W3: 'set', OTHER: 'set' } });
    // A started pool (its thread up), as a gateway's is by the time it warms.
    await pool.warm(['w0']);
    const published = () => pool.stats().answerStates.fresh;
    let mostUnderWay = 0;
    let check: Promise<{ auth: boolean; publishedBefore: number; publishedAt: number }> | undefined;
    const sample = setInterval(() => {
      const { answersInFlight, answerStates } = pool.stats();
      mostUnderWay = Math.max(mostUnderWay, answersInFlight);
      // Once the warm has published two windows' answers: taken in all at once, nearly all its other runs would be ahead of this one.
      if (!check && answerStates.fresh >= 2 * WARM_WINDOW) {
        const publishedBefore = answerStates.fresh;
        check = pool.hasAuth('other').then((auth) => ({ auth, publishedBefore, publishedAt: published() }));
      }
    }, 2);
    const report = await pool.warm(Object.keys(many));
    clearInterval(sample);
    expect(Object.entries(report.answers).filter(([, auth]) => auth)).toEqual([['w3', true]]);
    expect(mostUnderWay).toBeGreaterThan(0);
    // The warm's window, and the check's own run once it is made.
    expect(mostUnderWay).toBeLessThanOrEqual(WARM_WINDOW + 1);
    expect(check).toBeDefined();
    const checked = await (check as NonNullable<typeof check>);
    expect(checked.auth).toBe(true);
    // Answered behind the warm's runs under way then (a window at most), not behind the thousands it had yet to take in.
    expect(checked.publishedAt - checked.publishedBefore).toBeLessThan(3 * WARM_WINDOW);
  });

  it('rejects a large warm with E_POOL_CLOSED when close() comes before it has taken in all its targets; the close still ends', async () => {
    const many = manyEnvProviders('c');
    const pool = pools.create({ probes: { providers: many }, env: {} });
    await pool.warm(['c0']);
    const warming = pool.warm(Object.keys(many));
    const outcome = warming.then(
      () => 'resolved',
      (err: { code?: string }) => err.code,
    );
    await firstWindowUnderWay(pool);
    await pool.close();
    expect(await outcome).toBe('E_POOL_CLOSED');
    expect(pool.stats().answers).toBe(0);
  });

  it('keeps nothing a large warm probed before an invalidate() that overtakes it; the targets it takes in after are probed after it, and kept', async () => {
    const many = manyEnvProviders('v');
    const total = Object.keys(many).length;
    const env: Record<string, string> = { V3: 'set' };
    const pool = pools.create({ probes: { providers: many }, env });
    await pool.warm(['v0']);
    const warming = pool.warm(Object.keys(many));
    await firstWindowUnderWay(pool);
    // What the invalidate is for: a variable set now, which the targets taken in after it see.
    env[`V${total - 1}`] = 'set';
    pool.invalidate();
    const report = await warming;
    expect(report.published).toBe(false);
    expect(report.answers.v3).toBe(true);
    expect(report.answers[`v${total - 1}`]).toBe(true);
    const kept = pool.stats().answers;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(total);
    // The last target was taken in after the invalidate: its answer is kept and served with no dispatch.
    const dispatches = pool.stats().dispatches;
    expect(await pool.hasAuth(`v${total - 1}`)).toBe(true);
    expect(pool.stats().dispatches).toBe(dispatches);
  });

  it('reports progress as answers arrive, at most every 50 ms, ending at the total before it resolves; a throwing listener does not fail it', async () => {
    // Two slow CLIs keep the warm going after the store's 300 answers have come in.
    const withCli = { ...providers, 'cli-a': [{ kind: 'command' as const, command: slow }], 'cli-b': [{ kind: 'command' as const, command: slow }] };
    const pool = pools.create({ probes: { providers: withCli }, batchSize: 16 });
    const seen: { done: number; total: number; at: number }[] = [];
    const started = performance.now();
    const report = await pool.warm(Object.keys(withCli), scope, { onProgress: (p) => seen.push({ ...p, at: performance.now() }) });
    const tookMs = performance.now() - started;
    expect(report.published).toBe(true);
    expect(seen[0]).toMatchObject({ done: 0, total: 302 });
    expect(seen.at(-1)).toMatchObject({ done: 302, total: 302 });
    // The store's answers, then the CLIs': reported along the way, not only at the ends.
    expect(seen.length).toBeGreaterThan(2);
    // Answers arrive one by one; reports are throttled: no more than one per 50 ms the warm took, and the last.
    expect(seen.length).toBeLessThanOrEqual(Math.floor(tookMs / 50) + 2);
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
    const again = await pool.warm(['p1', 'p2'], scope, {
      onProgress: () => {
        throw new Error('listener bug');
      },
    });
    expect(again.published).toBe(true);
  });

  it('recomputes after invalidate()', async () => {
    const pool = pools.create({ probes: { providers } });
    await pool.warm(['p0', 'p1'], scope);
    const check = pool.createChecker(scope);
    expect(await check('p0')).toBe(true);
    const dispatches = pool.stats().dispatches;
    pool.invalidate();
    expect(await check('p0')).toBe(true);
    expect(pool.stats().dispatches).toBe(dispatches + 1);
  });

  it('does not publish a warm overtaken by invalidate()', async () => {
    const pool = pools.create({ probes: { providers: { slow: [{ kind: 'command', command: slow }] } } });
    const warming = pool.warm(['slow']);
    await new Promise((r) => setTimeout(r, 50));
    pool.invalidate();
    const report = await warming;
    expect(report.published).toBe(false);
    expect(report.answers).toEqual({ slow: true });
    const dispatches = pool.stats().dispatches;
    expect(await pool.hasAuth('slow')).toBe(true);
    expect(pool.stats().dispatches).toBe(dispatches + 1); // not from a snapshot
  });

  it('publishes both of two overlapping warms', async () => {
    const pool = pools.create({ probes: { providers: { slow: [{ kind: 'command', command: slow }], fast: [{ kind: 'env', vars: ['X'] }] } }, env: {} });
    const older = pool.warm(['slow']);
    const newer = pool.warm(['fast', 'slow']);
    const [a, b] = await Promise.all([older, newer]);
    expect([a.published, b.published]).toEqual([true, true]);
    expect(b.answers).toEqual({ fast: false, slow: true });
    const dispatches = pool.stats().dispatches;
    expect(await pool.hasAuth('fast')).toBe(false);
    expect(await pool.hasAuth('slow')).toBe(true);
    expect(pool.stats().dispatches).toBe(dispatches);
  });

  it('rejects the whole warm on a bad id, before probing anything', async () => {
    const pool = pools.create({ probes: { providers } });
    await expect(pool.warm(['p1', '../etc'], scope)).rejects.toMatchObject({ code: 'E_BAD_PROVIDER_ID' });
    expect(pool.stats().dispatches).toBe(0);
  });

  it("lets a published warm supersede checkers' older cached answers", async () => {
    const env: Record<string, string> = {};
    const pool = pools.create({ probes: { providers: { k: [{ kind: 'env', vars: ['K'] }] } }, env });
    const check = pool.createChecker();
    expect(await check('k')).toBe(false); // cached as a lasting no for the negative TTL
    env['K'] = 'now-set';
    expect(await check('k')).toBe(false); // still the cached answer
    expect((await pool.warm(['k'])).answers).toEqual({ k: true });
    expect(await check('k')).toBe(true);
  });
});
