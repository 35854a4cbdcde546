/**
 * An answer's life as a user sees it: warms that overlap, checks bounded by
 * `answerWithinMs`, a login's expiry while the queue is full, warms and
 * reports per modelApi, failures that last. Real threads, real files, real
 * shell-script CLIs that note each run in a mark file; every assertion is
 * about order and counts, never about how long something took.
 */
import { truncateSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthChecker, AuthProbePool } from 'auth-probe-pool';
import { eventually } from './helpers/processes.js';
import { useFixture } from './helpers/fixture.js';
import { markLines, shellCli } from './helpers/temp.js';

/** Every `change` event of the pool, as `provider:previous→current`. */
function recordChanges(pool: AuthProbePool): string[] {
  const seen: string[] = [];
  pool.on('change', (e) => seen.push(`${e.provider}:${e.previous}→${e.current}`));
  return seen;
}

/** Answers in order, runs folded: `true×3,false`. */
function runs(answers: readonly boolean[]): string {
  const out: string[] = [];
  for (let i = 0; i < answers.length; ) {
    let j = i;
    while (j < answers.length && answers[j] === answers[i]) j++;
    out.push(j - i > 1 ? `${answers[i]}×${j - i}` : String(answers[i]));
    i = j;
  }
  return out.join(',');
}

/** Checks `id` every 50 ms until it answers `want` or `timeoutMs` passes; returns every answer seen, the last one last. */
async function answersUntil(check: AuthChecker, id: string, want: boolean, timeoutMs = 5000): Promise<boolean[]> {
  const seen: boolean[] = [];
  const until = Date.now() + timeoutMs;
  for (;;) {
    const auth = await check(id);
    seen.push(auth);
    if (auth === want || Date.now() > until) return seen;
    await sleep(50);
  }
}

describe.each(['helper', 'worker'] as const)('overlapping warms (CLIs spawned from the %s)', (spawnVia) => {
  const { dir, pools } = useFixture({ prefix: 'app-lifecycle-warm-', pool: { spawnVia } });
  afterEach(() => pools.closeAll());

  it('resolves warm() calls made every 300 ms while warming goes on, instead of each new one discarding the CLI run in flight', async () => {
    const mark = dir.path('warm.mark');
    const cli = shellCli(dir, 'warm-half-second', mark, 'sleep 0.5\necho yes');
    const pool = pools.create({ probes: { providers: { slowcli: [{ kind: 'command', command: cli, requireStdout: true }] } } });
    const warms: Promise<unknown>[] = [];
    const resolvedBeforeLastStarted: number[] = [];
    let lastStarted = false;
    for (let i = 0; i < 10; i++) {
      if (i > 0) await sleep(300);
      if (i === 9) lastStarted = true;
      warms.push(
        pool.warm(['slowcli']).then((report) => {
          if (!lastStarted) resolvedBeforeLastStarted.push(i);
          return report;
        }),
      );
    }
    const reports = await Promise.all(warms);
    // Every warm got the right answer in the end…
    for (const report of reports) expect(report).toMatchObject({ published: true, answers: { slowcli: true } });
    // …and some got it while the warms went on: a warm joins (or queues behind) the run under way.
    expect(resolvedBeforeLastStarted.length, `warms resolved before the last of 10 was started (CLI runs: ${markLines(mark).length})`).toBeGreaterThan(0);
  });
});

describe.each(['helper', 'worker'] as const)('answerWithinMs bounds every wait (CLIs spawned from the %s)', (spawnVia) => {
  const { dir, pools } = useFixture({ prefix: 'app-lifecycle-within-', pool: { spawnVia } });
  afterEach(() => pools.closeAll());

  it("answers a check that joins a warm's first run false within the bound, then tells of the true with a change event", async () => {
    const mark = dir.path('join.mark');
    const cli = dir.write('bin/join-slow', `#!/bin/sh\necho start >> '${mark}'\nsleep 1.5\necho end >> '${mark}'\necho yes\n`, 0o755);
    const pool = pools.create({ answerWithinMs: 100, probes: { providers: { slow: [{ kind: 'command', command: cli, requireStdout: true }] } } });
    const changes = recordChanges(pool);
    let warmEnded = false;
    const warming = pool.warm(['slow']).then((report) => {
      warmEnded = true;
      return report;
    });
    const check = pool.createChecker();
    const answer = await check('slow');
    // Answered undecided while the warm's run went on: before the warm resolved, before the CLI ended.
    expect({ answer, warmEnded, cliEnded: markLines(mark).includes('end') }).toEqual({ answer: false, warmEnded: false, cliEnded: false });
    expect((await warming).answers).toEqual({ slow: true });
    expect(await eventually(() => changes.length > 0)).toBe(true);
    expect(changes).toEqual(['slow:false→true']);
    expect(await check('slow')).toBe(true);
  });

  it('does not keep re-running the CLIs of ids checked once whose undecided answer turned out false', async () => {
    const mark = dir.path('undecided.mark');
    const cli = shellCli(dir, 'no-auth', mark, 'sleep 0.05\nexit 1');
    const ids = Array.from({ length: 20 }, (_, i) => `u${i}`);
    const providers = Object.fromEntries(ids.map((id) => [id, [{ kind: 'command' as const, command: cli, args: [id] }]]));
    const pool = pools.create({ answerWithinMs: 1, cacheTtlMs: { positive: 200, negative: 200 }, probes: { providers } });
    const check = pool.createChecker();
    expect(await Promise.all(ids.map((id) => check(id)))).toEqual(ids.map(() => false));
    // Every first run has been made (the mark is written as a CLI starts)…
    expect(await eventually(() => markLines(mark).length >= 20)).toBe(true);
    // …then nobody checks again for ten negative TTLs: nothing is followed, nothing is due.
    await sleep(2000);
    expect(markLines(mark).length, 'CLI runs for 20 ids checked once').toBeLessThanOrEqual(25);
  });
});

describe.each(['helper', 'worker'] as const)('an expiry while the queue is full (CLIs spawned from the %s)', (spawnVia) => {
  const { dir, pools } = useFixture({ prefix: 'app-lifecycle-expiry-', pool: { spawnVia } });
  afterEach(() => pools.closeAll());

  it('never answers true for a login past its expiry, even while maxQueue is reached', async () => {
    const token = dir.path('expiring/token.json');
    const hung = dir.write('bin/hung', '#!/bin/sh\nsleep 30\n', 0o755);
    const probes = {
      providers: {
        cred: [{ kind: 'credentialFile' as const, path: token, pointer: '/token', expiry: { pointer: '/expiresAt', unit: 'ms' as const } }],
        hung: [{ kind: 'command' as const, command: hung, timeoutMs: 60_000 }],
        key: [{ kind: 'env' as const, vars: ['KEY'] }],
      },
    };
    // The premise, established rather than assumed: the login answered true and the queue full, both before its
    // expiry. On a loaded machine that can take longer than the login's life: then again, with a longer one.
    for (let lifeMs = 1500; ; lifeMs *= 2) {
      expect(lifeMs, 'the premise was established within a minute').toBeLessThan(60_000);
      const pool = pools.create({ maxQueue: 1, expirySkewMs: 0, probeTimeoutMs: 60_000, env: {}, probes });
      await pool.warm(['key']);
      const expiresAt = Date.now() + lifeMs;
      dir.write('expiring/token.json', { token: 'tok-live', expiresAt });
      const check = pool.createChecker();
      const before = await check('cred');
      // One answer in flight, its CLI hung: the queue at its limit (the force-close at the end rejects it).
      const hanging = check('hung').catch((err: { code?: string }) => err.code);
      expect(await eventually(() => pool.stats().answersInFlight === 1)).toBe(true);
      if (!before || Date.now() >= expiresAt) {
        await pools.closeAll();
        continue;
      }
      while (Date.now() <= expiresAt + 300) await sleep(50);
      expect(pool.stats().answersInFlight, 'the queue is still full').toBe(1);
      expect(await check('cred'), 'the same checker, past the expiry').toBe(false);
      expect(await pool.hasAuth('cred'), 'hasAuth, past the expiry').toBe(false);
      await pools.closeAll();
      expect(await hanging).toBe('E_POOL_CLOSED');
      return;
    }
    // Retries with longer lives may take a while on a loaded machine: the loop's own bound is a minute per life.
  }, 240_000);
});

describe('modelApi in warm() and explain()', () => {
  const { dir, pools } = useFixture({ prefix: 'app-lifecycle-modelapi-' });
  afterEach(() => pools.closeAll());
  // A gateway's module probe that grants only the 'chat' API.
  dir.write('probes/acme.mjs', `export default function hasAuth(ctx) { return ctx.modelApi === 'chat'; }`);
  const probes = {
    providers: {
      acme: [{ kind: 'module' as const, module: './probes/acme.mjs' }],
      key: [{ kind: 'env' as const, vars: ['KEY'] }],
    },
  };

  it('answers a check with a modelApi from a warm of { provider, modelApi }, with no dispatch', async () => {
    const pool = pools.create({ probes, configDir: dir.root, env: { KEY: 'set' } });
    const report = await pool.warm(['key', { provider: 'acme', modelApi: 'chat' }]);
    expect(report.published).toBe(true);
    expect(report).toMatchObject({ answers: { key: true }, modelApiAnswers: { acme: { chat: true } } });
    const dispatches = pool.stats().dispatches;
    const check = pool.createChecker();
    expect(await check('acme', 'chat')).toBe(true);
    expect(await check('key')).toBe(true);
    expect(pool.stats().dispatches, 'tasks dispatched by checks after the warm').toBe(dispatches);
  });

  it('passes the modelApi given to explain() to module probes', async () => {
    const pool = pools.create({ probes, configDir: dir.root });
    const chat = await pool.explain('acme', undefined, { modelApi: 'chat' });
    const other = await pool.explain('acme', undefined, { modelApi: 'other' });
    expect({ chat: chat.auth, other: other.auth }).toEqual({ chat: true, other: false });
  });
});

describe('failures that last', () => {
  const { dir, pools } = useFixture({ prefix: 'app-lifecycle-failing-' });
  afterEach(() => pools.closeAll());
  const options = { cacheTtlMs: { positive: 500, negative: 500 }, failureBackoffMs: { initial: 100, max: 200 } };
  const credential = (path: string) => ({ providers: { cred: [{ kind: 'credentialFile' as const, path, pointer: '/token' }] } });

  /** A pool whose `cred` answers true from a token file under `name`, checked once; its change events recorded. */
  async function believed(name: string, positive = 500) {
    const file = dir.write(`${name}/token.json`, { token: 'tok-1' });
    const pool = pools.create({ ...options, cacheTtlMs: { ...options.cacheTtlMs, positive }, probes: credential(file) });
    const changes = recordChanges(pool);
    const check = pool.createChecker();
    expect(await check('cred')).toBe(true);
    return { file, pool, changes, check };
  }

  it('believes a credential file left empty once the failure outlasts cacheTtlMs.positive: false, with one change event', async () => {
    const { file, changes, check } = await believed('emptied');
    truncateSync(file, 0);
    const seen = await answersUntil(check, 'cred', false, 30_000);
    expect(seen.at(-1), `answers after the file was emptied: ${runs(seen)}`).toBe(false);
    // Once believed, it stays so: no flip back while the file stays empty.
    await sleep(500);
    expect(await check('cred')).toBe(false);
    expect(changes).toEqual(['cred:true→false']);
  });

  it('keeps answering true, with no change event, through a credential file emptied for a moment; left half-written, it is believed once', async () => {
    // The premise, established rather than assumed: the blip (from the truncation until the answer is whole again)
    // lasted less than cacheTtlMs.positive. A loaded machine may take longer to see the file whole: then again, longer.
    for (let positive = 500; ; positive *= 2) {
      expect(positive, 'a blip shorter than cacheTtlMs.positive within a minute').toBeLessThan(60_000);
      const { file, pool, changes, check } = await believed(`blip-${positive}`, positive);
      // Past the positive TTL: what counts is how long the failure lasts, not how old the good answer is.
      await sleep(positive + 200);
      const emptied = Date.now();
      truncateSync(file, 0);
      // The empty file has been read (a failure, served degraded); then it is whole again at once.
      expect(await eventually(() => pool.stats().degraded === 1, 30_000)).toBe(true);
      writeFileSync(file, JSON.stringify({ token: 'tok-1' }));
      expect(await eventually(() => pool.stats().degraded === 0, 30_000)).toBe(true);
      if (Date.now() - emptied >= positive) {
        await pools.closeAll();
        continue;
      }
      const during: boolean[] = [];
      for (const until = Date.now() + 1500; Date.now() < until; await sleep(50)) during.push(await check('cred'));
      expect(during.every(Boolean), `answers after the blip: ${runs(during)}`).toBe(true);
      expect(changes).toEqual([]);
      // The same file left half-written is a failure that lasts.
      writeFileSync(file, '{"token": "tok-');
      const seen = await answersUntil(check, 'cred', false, 30_000);
      expect(seen.at(-1), `answers after the file was left half-written: ${runs(seen)}`).toBe(false);
      await sleep(500);
      expect(changes).toEqual(['cred:true→false']);
      return;
    }
    // Retries with longer lives may take a while on a loaded machine: the loop's own bound is a minute per life.
  }, 240_000);
});
