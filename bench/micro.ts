/**
 * Micro-figures of the library on its own: a cached check against a bare
 * awaited Map lookup, dispatch overhead per probe (one task per probe, and
 * batched by `warm()`), pool start to first answer, and memory per worker
 * thread. Probes here are env lookups, so what is timed is the library.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuthProbePool, type AuthProbePool, type AuthProbePoolOptions } from '../src/index.js';
import { median, nsPerOp } from './stats.js';

export interface MicroFigures {
  /** One cached check (`await check(id)` on a hit), in nanoseconds. */
  readonly cachedCheckNs: number;
  /** `await map.get(id)` on a bare Map, in nanoseconds. */
  readonly mapAwaitNs: number;
  /** `cachedCheckNs / mapAwaitNs`. */
  readonly cachedVsMap: number;
  /** A cache miss answered by its own worker task, one after another, per probe, in microseconds. */
  readonly dispatchSingleUs: number;
  /** `warm()` of many providers in few tasks, per probe, in microseconds. */
  readonly dispatchBatchedUs: number;
  /** Providers and worker tasks of that warm. */
  readonly batchedProviders: number;
  readonly batchedTasks: number;
  /** From `createAuthProbePool` to the first answer (a worker started and loaded), median, in milliseconds. */
  readonly poolStartMs: number;
  /** Resident memory one more worker thread costs, in MiB. */
  readonly workerRssMb: number;
  readonly workerRssThreads: number;
}

const IDS = Array.from({ length: 2000 }, (_, i) => `env-${i}`);

/** A pool of env probes over `IDS`; `threads` undefined: the library's default. */
function microPool(threads: { min?: number; max: number } | undefined): AuthProbePool {
  const options: AuthProbePoolOptions = {
    probes: { providers: Object.fromEntries(IDS.map((id) => [id, [{ kind: 'env', vars: ['MICRO_KEY'] }]])) },
    env: { MICRO_KEY: 'set' },
    ...(threads === undefined ? {} : { threads }),
  };
  return createAuthProbePool(options);
}

/**
 * Runs every micro-benchmark with `threads` worker threads (undefined: the
 * library's default) where a pool is needed; takes a few seconds.
 */
export async function runMicro(threads: number | undefined, progress: (line: string) => void): Promise<MicroFigures> {
  const pool = microPool(threads === undefined ? undefined : { min: threads, max: threads });
  try {
    // Cached check vs a bare Map behind await.
    await pool.warm(IDS.slice(0, 10));
    const check = pool.createChecker();
    await check('env-0');
    const cachedCheckNs = await nsPerOp(() => check('env-0'), 200_000);
    const map = new Map(IDS.map((id) => [id, true]));
    const mapAwaitNs = await nsPerOp(() => map.get('env-0'), 200_000);
    progress(`micro: cached check ${cachedCheckNs.toFixed(0)} ns, awaited Map ${mapAwaitNs.toFixed(0)} ns`);

    // One task per probe, sequential misses on distinct providers.
    const single = IDS.slice(100, 500);
    for (const id of single.slice(0, 100)) await pool.hasAuth(id);
    const t0 = process.hrtime.bigint();
    for (const id of single.slice(100)) await pool.hasAuth(id);
    const dispatchSingleUs = Number(process.hrtime.bigint() - t0) / 1000 / (single.length - 100);

    // Batched: warm() over every id, best of three, the pool's answers dropped before each.
    const warms: { perProbeUs: number; tasks: number }[] = [];
    for (let i = 0; i < 3; i++) {
      pool.invalidate();
      const report = await pool.warm(IDS);
      warms.push({ perProbeUs: (report.durationMs * 1000) / IDS.length, tasks: report.dispatches });
    }
    const best = warms.reduce((a, b) => (b.perProbeUs < a.perProbeUs ? b : a));
    progress(`micro: dispatch ${dispatchSingleUs.toFixed(0)} µs/probe single, ${best.perProbeUs.toFixed(1)} µs/probe batched`);

    return {
      cachedCheckNs,
      mapAwaitNs,
      cachedVsMap: cachedCheckNs / mapAwaitNs,
      dispatchSingleUs,
      dispatchBatchedUs: best.perProbeUs,
      batchedProviders: IDS.length,
      batchedTasks: best.tasks,
      ...(await startFigures(threads)),
      ...(await workerMemory()),
    };
  } finally {
    await pool.close({ force: true });
  }
}

async function startFigures(threads: number | undefined): Promise<{ poolStartMs: number }> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const pool = microPool(threads === undefined ? undefined : { min: 1, max: threads });
    try {
      await pool.hasAuth('env-0');
      times.push(performance.now() - t0);
    } finally {
      await pool.close({ force: true });
    }
  }
  return { poolStartMs: median(times) };
}

/** RSS before and after a pool of four threads has started and run work, per thread. */
async function workerMemory(): Promise<{ workerRssMb: number; workerRssThreads: number }> {
  const n = 4;
  await sleep(100);
  const before = process.memoryUsage.rss();
  const pool = microPool({ min: n, max: n });
  try {
    await Promise.all(IDS.slice(0, 64).map((id) => pool.hasAuth(id)));
    while (pool.stats().threads < n) await sleep(20);
    await sleep(200);
    return { workerRssMb: (process.memoryUsage.rss() - before) / n / 2 ** 20, workerRssThreads: n };
  } finally {
    await pool.close({ force: true });
  }
}
