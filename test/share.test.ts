import { afterAll, describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { exposeChecker } from 'auth-probe-pool';
import { sharedCheckerCount } from '../dist/src/share.js';
import { useFixture } from './helpers/fixture.js';
import { checkerThreads } from './helpers/threads.js';

const waitFor = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((r) => setTimeout(r, 10));
};

describe('sharing the checker with worker threads (exposeChecker / connectChecker)', () => {
  const { dir, pools } = useFixture();
  const threads = checkerThreads(dir);
  // Registered after useFixture's: runs first, so threads end before their pools and temp dir go.
  afterAll(() => threads.closeAll());
  const gate = dir.path('gate');
  dir.write(
    'probes/gated.mjs',
    `import { existsSync } from 'node:fs';
     // Answers once the test creates the gate file: a check that stays in flight as long as the test needs.
     export default async function gated() {
       while (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 10));
       return true;
     }`,
  );
  const options = {
    probes: {
      providers: {
        openai: [{ kind: 'env' as const, vars: ['OPENAI_API_KEY'] }],
        mistral: [{ kind: 'env' as const, vars: ['MISTRAL_API_KEY'] }],
        groq: [{ kind: 'env' as const, vars: ['GROQ_API_KEY'] }],
        gated: [{ kind: 'module' as const, module: './probes/gated.mjs' }],
      },
    },
    configDir: dir.root,
    env: { OPENAI_API_KEY: 'sk-share-secret' },
    probeTimeoutMs: 60_000,
  };
  /** A pool, a thread, and the pool's checker exposed to it. */
  const connected = (expose: Parameters<typeof exposeChecker>[2] = {}) => {
    const pool = pools.create(options);
    const thread = threads.start();
    return { pool, thread, exposed: exposeChecker(pool, thread.port, expose) };
  };

  it("gives a thread the main thread's answers, with modelApi", async () => {
    const { pool, thread } = connected();
    expect(await thread.send('check', 'openai')).toEqual({ ok: true, value: true });
    expect(await thread.send('check', 'mistral')).toEqual({ ok: true, value: false });
    expect(await thread.send('check', 'OpenAI', 'responses')).toEqual({ ok: true, value: true });
    const main = pool.createChecker();
    expect([await main('openai'), await main('mistral')]).toEqual([true, false]);
  });

  it("shares the main thread's cache and coalesces concurrent checks (pool stats)", async () => {
    const pool = pools.create(options);
    const main = pool.createChecker();
    const thread = threads.start();
    exposeChecker(pool, thread.port, { checker: main });
    const [a, b] = await Promise.all([thread.send('check', 'openai'), thread.send('check', 'openai')]);
    expect([a, b]).toEqual([
      { ok: true, value: true },
      { ok: true, value: true },
    ]);
    const afterThread = pool.stats();
    // Two checks, one probe: the second joined the first in flight, or found its answer cached.
    expect(afterThread.providersProbed).toBe(1);
    expect(afterThread.coalesced + afterThread.cacheHits).toBe(1);
    // The main thread's own checker answers from what the thread's check cached.
    expect(await main('openai')).toBe(true);
    expect(pool.stats()).toMatchObject({ providersProbed: 1, dispatches: afterThread.dispatches, cacheHits: afterThread.cacheHits + 1 });
  });

  it('lets two threads exposed without a checker of their own share one cache', async () => {
    const pool = pools.create(options);
    const [first, second] = [threads.start(), threads.start()];
    exposeChecker(pool, first.port);
    exposeChecker(pool, second.port);
    expect(await first.send('check', 'openai')).toEqual({ ok: true, value: true });
    const before = pool.stats();
    expect(await second.send('check', 'openai')).toEqual({ ok: true, value: true });
    expect(pool.stats()).toMatchObject({ dispatches: before.dispatches, cacheHits: before.cacheHits + 1 });
  });

  it('keeps the error code across the thread: a typed AuthProbeError', async () => {
    const { thread } = connected();
    expect(await thread.send('check', 42)).toEqual({ ok: false, error: { name: 'AuthProbeError', code: 'E_BAD_PROVIDER_ID', typed: true } });
    expect(await thread.send('check', '../etc/passwd')).toEqual({ ok: true, value: false });
    expect(await thread.send('check', 'openai', 42)).toMatchObject({ ok: false, error: { code: 'E_BAD_MODEL_API', typed: true } });
  });

  it("runs warm() on the main pool, whose snapshot then answers the main thread's checks", async () => {
    const { pool, thread } = connected();
    const reply = await thread.send('warm', ['openai', 'groq']);
    expect(reply).toMatchObject({ ok: true, value: { published: true, answers: { openai: true, groq: false }, failed: [] } });
    const dispatches = pool.stats().dispatches;
    expect(await pool.createChecker()('groq')).toBe(false);
    expect(pool.stats()).toMatchObject({ dispatches, snapshotHits: 1 });
  });

  it('sends warm() progress back over the same channel, ending at the total, and releases the listener', async () => {
    const { thread } = connected();
    const reply = await thread.send('warmWithProgress', ['openai', 'groq', 'anthropic']);
    expect(reply.ok).toBe(true);
    const { report, progress } = (reply as { value: { report: { published: boolean }; progress: { done: number; total: number }[] } }).value;
    expect(report.published).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.every((p) => p.total === 3)).toBe(true);
    expect(progress.at(-1)).toEqual({ done: 3, total: 3 });
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
  });

  it('rejects a pending check with E_CHANNEL_CLOSED when the main side closes, and every later one', async () => {
    const { pool, thread, exposed } = connected();
    const pending = thread.send('check', 'gated');
    await waitFor(() => pool.stats().answersInFlight === 1);
    exposed.close();
    expect(await pending).toEqual({ ok: false, error: { name: 'AuthProbeError', code: 'E_CHANNEL_CLOSED', typed: true } });
    expect(await thread.send('check', 'openai')).toMatchObject({ ok: false, error: { code: 'E_CHANNEL_CLOSED', typed: true } });
    await exposed.closed;
    dir.write('gate', '');
  });

  it('rejects with E_POOL_CLOSED once the main pool is closed', async () => {
    const { pool, thread } = connected();
    await pool.close();
    expect(await thread.send('check', 'openai')).toMatchObject({ ok: false, error: { code: 'E_POOL_CLOSED', typed: true } });
  });

  it('drops every listener on the main side when the thread goes away', async () => {
    const { pool, thread, exposed } = connected();
    expect(await thread.send('check', 'openai')).toEqual({ ok: true, value: true });
    expect(thread.port.listenerCount('message')).toBeGreaterThan(0);
    expect(thread.port.listenerCount('close')).toBeGreaterThan(0);
    await thread.terminate();
    await exposed.closed;
    expect(thread.port.listenerCount('message')).toBe(0);
    expect(thread.port.listenerCount('close')).toBe(0);
    // The pool is untouched.
    expect(await pool.hasAuth('openai')).toBe(true);
  });

  it("closes the channel from the thread's side: the main side lets go, later checks reject", async () => {
    const { thread, exposed } = connected();
    expect(await thread.send('check', 'openai')).toEqual({ ok: true, value: true });
    expect(await thread.send('close')).toEqual({ ok: true, value: null });
    await exposed.closed;
    expect(thread.port.listenerCount('message')).toBe(0);
    expect(await thread.send('check', 'openai')).toMatchObject({ ok: false, error: { code: 'E_CHANNEL_CLOSED', typed: true } });
  });

  it("runs a given checker's warm() in that checker's scope, when the exposure names none", async () => {
    const pool = pools.create(options);
    const scoped = { env: { MISTRAL_API_KEY: 'sk-scoped' } };
    const thread = threads.start();
    exposeChecker(pool, thread.port, { checker: pool.createChecker(scoped) });
    const reply = await thread.send('warm', ['mistral']);
    // In the default scope mistral has no key: the warm ran in the checker's own.
    expect(reply).toMatchObject({ ok: true, value: { answers: { mistral: true } } });
    const dispatches = pool.stats().dispatches;
    expect(await pool.createChecker(scoped)('mistral')).toBe(true);
    expect(pool.stats().dispatches).toBe(dispatches);
  });

  it('lets go of the checker an exposure shared once the last exposure of its scope is closed', async () => {
    const pool = pools.create(options);
    const exposures = Array.from({ length: 20 }, (_, i) => {
      const { port1 } = new MessageChannel();
      return { port1, exposed: exposeChecker(pool, port1, { scope: { agentId: `agent-${i % 10}` } }) };
    });
    // One shared checker per scope, however many exposures share it.
    expect(sharedCheckerCount(pool)).toBe(10);
    for (const { exposed } of exposures.slice(0, 10)) exposed.close();
    expect(sharedCheckerCount(pool)).toBe(10);
    for (const { exposed } of exposures.slice(10)) exposed.close();
    expect(sharedCheckerCount(pool)).toBe(0);
  });
});
