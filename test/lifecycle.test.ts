import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AuthProbeError, createAuthProbePool } from 'auth-probe-pool';
import { capturingLogger } from './helpers/pools.js';
import { eventually } from './helpers/processes.js';
import { fakeCli } from './helpers/temp.js';
import { useFixture } from './helpers/fixture.js';

const DIST = fileURLToPath(new URL('../dist/src/index.js', import.meta.url));

/** Runs an ESM snippet in a fresh Node process; `lib` is the built package. */
function runNode(code: string) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', `const lib = await import(${JSON.stringify(DIST)});\n${code}`], {
    encoding: 'utf8',
    timeout: 20_000,
    killSignal: 'SIGKILL',
  });
}

describe('pool lifecycle', () => {
  const { dir, pools } = useFixture();
  const slow = fakeCli(dir, 'slow', `setTimeout(() => process.exit(0), 400);`);

  it('starts no thread until a check needs one', async () => {
    const pool = pools.create({ probes: { providers: { a: [{ kind: 'env', vars: ['A'] }] } }, threads: { min: 2, max: 2 } });
    expect(pool.stats().threads).toBe(0);
    pool.createChecker();
    expect(pool.stats().threads).toBe(0);
    await pool.hasAuth('a');
    expect(pool.stats().threads).toBeGreaterThan(0);
  });

  it("starts one thread in the checks' tick, and the others (with the tasks) once it runs", async () => {
    // Piscina creates its threads through node:worker_threads' Worker, looked up at each creation: record them in order.
    const threads = createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof Worker };
    const Original = threads.Worker;
    const events: string[] = [];
    threads.Worker = class extends Original {
      constructor(...args: ConstructorParameters<typeof Worker>) {
        super(...args);
        const n = events.filter((e) => e.startsWith('created')).length + 1;
        events.push(`created ${n}`);
        this.once('online', () => events.push(`online ${n}`));
      }
    };
    try {
      // 16 providers on 2 threads: 4 tasks, so Piscina starts the second thread for the second task.
      const providers = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`p${i}`, [{ kind: 'env' as const, vars: [`K${i}`] }]]));
      const pool = pools.create({ probes: { providers }, env: { K3: 'x' }, threads: { min: 1, max: 2 } });
      const check = pool.createChecker();
      const answers = await Promise.all(Object.keys(providers).map((p) => check(p)));
      expect(answers.filter(Boolean)).toHaveLength(1);
      expect(pool.stats().threads).toBe(2);
      expect(events.slice(0, 3)).toEqual(['created 1', 'online 1', 'created 2']);
    } finally {
      threads.Worker = Original;
    }
  });

  it('never keeps the process alive when idle, even unclosed with min threads', () => {
    const run = runNode(`
      const pool = lib.createAuthProbePool({ probes: { providers: { a: [{ kind: 'env', vars: ['HOME'] }] } }, threads: { min: 2, max: 2 } });
      console.log(await pool.hasAuth('a'), pool.stats().threads);
    `);
    expect(run.error).toBeUndefined();
    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('true 2');
  });

  it('neither holds the process open with its spawn helper when idle, unclosed, nor lets it exit before close() has stopped the helper', () => {
    const idle = runNode(`
      const pool = lib.createAuthProbePool({ probes: { providers: { a: [{ kind: 'command', command: '/bin/true' }] } } });
      console.log(await pool.hasAuth('a'));
    `);
    expect(idle.status).toBe(0);
    expect(idle.stdout.trim()).toBe('true');
    // Nothing else keeps this process's loop alive while close() waits for the helper to exit.
    const closing = runNode(`
      const pool = lib.createAuthProbePool({ probes: { providers: { a: [{ kind: 'command', command: '/bin/true' }] } } });
      const auth = await pool.hasAuth('a');
      await pool.close();
      console.log(auth, 'closed');
    `);
    expect(closing.status).toBe(0);
    expect(closing.stdout.trim()).toBe('true closed');
  });

  it('importing the package and creating a pool start no thread (counted in /proc/self/task)', () => {
    const run = runNode(`
      const { readdirSync } = await import('node:fs');
      const threads = () => readdirSync('/proc/self/task').length;
      const atImport = threads();
      const pool = lib.createAuthProbePool({ probes: { providers: { a: [{ kind: 'env', vars: ['HOME'] }] } }, threads: { min: 1, max: 1 } });
      pool.createChecker();
      const afterCreate = threads();
      await pool.hasAuth('a');
      console.log(JSON.stringify({ atImport, afterCreate, afterCheck: threads() }));
      await pool.close();
    `);
    expect(run.status).toBe(0);
    const counts = JSON.parse(run.stdout) as { atImport: number; afterCreate: number; afterCheck: number };
    expect(counts.afterCreate).toBe(counts.atImport);
    expect(counts.afterCheck).toBeGreaterThan(counts.atImport);
  });

  it('drains in-flight checks on close(); later checks reject with E_POOL_CLOSED', async () => {
    const pool = createAuthProbePool({ probes: { providers: { slow: [{ kind: 'command', command: slow }] } }, threads: { min: 1, max: 1 } });
    const inFlight = Array.from({ length: 5 }, () => pool.hasAuth('slow'));
    await new Promise((r) => setTimeout(r, 20));
    await pool.close();
    expect(await Promise.all(inFlight)).toEqual([true, true, true, true, true]);
    await expect(pool.hasAuth('slow')).rejects.toMatchObject({ code: 'E_POOL_CLOSED' });
    expect(() => pool.createChecker()).toThrow(AuthProbeError);
    await pool.close(); // idempotent
  });

  it('settles every in-flight check on close({ force: true }), none hangs', async () => {
    const providers = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`s${i}`, [{ kind: 'command' as const, command: slow }]]));
    const pool = createAuthProbePool({ probes: { providers }, threads: { min: 1, max: 2 }, batchSize: 1 });
    const check = pool.createChecker();
    const inFlight = Object.keys(providers).map((p) =>
      check(p).then(
        (v) => `ok:${v}`,
        (e: AuthProbeError) => e.code,
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    await pool.close({ force: true });
    const outcomes = await Promise.all(inFlight);
    expect(outcomes).toHaveLength(200);
    expect(outcomes.filter((o) => o === 'E_POOL_CLOSED').length).toBeGreaterThan(150);
    expect(outcomes.every((o) => o === 'E_POOL_CLOSED' || o === 'ok:true')).toBe(true);
  });

  it('validates options once, naming the field', () => {
    const bad = (options: unknown) => {
      try {
        createAuthProbePool(options as never);
      } catch (err) {
        return err as AuthProbeError;
      }
      throw new Error('expected a throw');
    };
    expect(bad({ probes: { providers: { a: [{ kind: 'env', vars: ['1BAD'] }] } } })).toMatchObject({ code: 'E_BAD_CONFIG', message: expect.stringContaining('providers.a[0].vars[0]') });
    expect(bad({ probes: { providers: { a: [{ kind: 'telepathy' }] } } })).toMatchObject({ code: 'E_BAD_CONFIG', message: expect.stringContaining('providers.a[0]') });
    expect(bad({ probes: { providers: {} }, probeTimeoutMs: -1 })).toMatchObject({ code: 'E_BAD_OPTIONS', message: expect.stringContaining('probeTimeoutMs') });
    expect(bad({ probes: { providers: {} }, threads: { min: 0 } })).toMatchObject({ code: 'E_BAD_OPTIONS', message: expect.stringContaining('threads.min') });
    expect(bad({ probes: { providers: {} }, threads: { min: 3, max: 2 } })).toMatchObject({ code: 'E_BAD_OPTIONS', message: expect.stringContaining('threads.min') });
    expect(bad({ probes: { providers: {} }, logger: {} })).toMatchObject({ code: 'E_BAD_OPTIONS', message: expect.stringContaining('logger') });
    expect(bad({ probes: { providers: {} }, expirySkewMs: -1 })).toMatchObject({ code: 'E_BAD_OPTIONS', message: expect.stringContaining('expirySkewMs') });
    expect(bad(undefined)).toMatchObject({ code: 'E_BAD_OPTIONS' });
  });

  it('logs each dispatch with its duration, and slow probes at warn', async () => {
    const { logger, lines } = capturingLogger();
    const pool = pools.create({ probes: { providers: { slow: [{ kind: 'command', command: slow }] } }, logger, slowProbeMs: 100 });
    expect(await pool.hasAuth('slow')).toBe(true);
    // The slow probe is logged as its provider is answered; the dispatch line when its task ends, just after.
    expect(lines.find((l) => l['msg'] === 'slow auth probe')).toBeDefined();
    expect(await eventually(() => lines.some((l) => l['msg'] === 'dispatch'))).toBe(true);
    const dispatch = lines.find((l) => l['msg'] === 'dispatch');
    expect(dispatch).toMatchObject({ level: 20, lib: 'auth-probe-pool', providers: 1, probes: 1 });
    expect(typeof dispatch?.['durationMs']).toBe('number');
    expect(lines.find((l) => l['msg'] === 'slow auth probe')).toMatchObject({ level: 40, provider: 'slow', probe: 'command' });
  });

  it('gives a slow probe that timed out its error code in the warning', async () => {
    const { logger, lines } = capturingLogger();
    const sleeper = dir.write('bin/sleeper', '#!/bin/sh\nexec sleep 5\n', 0o755);
    const pool = pools.create({ probes: { providers: { stuck: [{ kind: 'command', command: sleeper, timeoutMs: 200 }] } }, logger, slowProbeMs: 100 });
    expect(await pool.hasAuth('stuck')).toBe(false);
    expect(lines.find((l) => l['msg'] === 'slow auth probe')).toMatchObject({ level: 40, provider: 'stuck', outcome: 'error', code: 'E_PROBE_TIMEOUT' });
  });

  it("lowers the worker threads' priority with niceIncrement, not the main thread's", async () => {
    const niceOf = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]);
    const before = new Set(readdirSync('/proc/self/task'));
    const { logger, lines } = capturingLogger();
    const pool = pools.create({ probes: { providers: { a: [{ kind: 'env', vars: ['HOME'] }] } }, niceIncrement: 7, threads: { min: 1, max: 1 }, logger });
    expect(await pool.hasAuth('a')).toBe(true);
    const niced = readdirSync('/proc/self/task').filter((tid) => !before.has(tid) && niceOf(tid) === 7);
    expect(niced.length).toBeGreaterThanOrEqual(1);
    expect(niceOf(String(process.pid))).toBe(0);
    expect(lines.some((l) => String(l['msg']).includes('niceIncrement has no effect'))).toBe(false);
  });

  it('reports stats: dispatches, hits, coalesced, in-flight, queue and durations', async () => {
    const pool = pools.create({ probes: { providers: { slow: [{ kind: 'command', command: slow }] } } });
    const check = pool.createChecker();
    const pending = [check('slow'), check('slow')];
    // A miss is taken in the pool's slice of the loop: this turn's, or the next one's when this turn's is spent.
    await new Promise((resolve) => setImmediate(resolve));
    expect(pool.stats().answersInFlight).toBe(1);
    expect(pool.stats().answerStates).toMatchObject({ probing: 1, fresh: 0 });
    await Promise.all(pending);
    await check('slow');
    let stats = pool.stats();
    expect(stats).toMatchObject({ dispatches: 1, coalesced: 1, cacheHits: 1, answersInFlight: 0, tasksQueued: 0, providersProbed: 1, probesRun: 1 });
    expect(stats.answerStates).toEqual({ probing: 0, expired: 0, undecided: 0, fresh: 1, refreshing: 0, held: 0, stale: 0, retired: 0 });
    // Piscina times a task when it ends, just after its provider was answered.
    expect(await eventually(() => pool.stats().runTime.count === 1)).toBe(true);
    stats = pool.stats();
    expect(stats.runTime.max).toBeGreaterThan(0);
    expect((await pool.explain('slow')).kept, 'the kept answer, by its state').toMatchObject({ state: 'fresh', auth: true });
  });
});
