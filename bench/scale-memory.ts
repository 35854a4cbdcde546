/**
 * `memory`: what a pool at the library's defaults costs in resident memory,
 * in a fresh process. RSS is read after a full GC and a quiet moment, before
 * the pool exists; then a pool is created over the mixed configuration
 * (`scale-mixed.ts`, whose CLIs start the spawn helper), swept once, and RSS
 * read again once its threads have settled. The rise, divided by the threads
 * the pool ran, is the cost per worker thread (it includes the main
 * thread's share of the pool, a few hundred answers). The spawn helper is a
 * process of its own: its RSS (`VmRSS`, shared pages of the Node binary
 * counted in full) and its proportional share (`Pss`) are read from /proc,
 * found as this process's child whose command line contains `spawn-helper`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuthProbePool } from '../src/index.js';
import { childProcesses, collectGarbage, processMemoryMb } from './proc.js';
import { settle, type CaseContext } from './scale-case.js';
import { mixedWorld } from './scale-mixed.js';

/** One fresh process's figures, in MiB (but `threads` and `helpers`). */
export interface MemoryFigures {
  /** Providers of the sweep. */
  readonly providers: number;
  readonly threads: number;
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
  /** This process's RSS rise: the worker threads and the pool's main-thread state. */
  readonly processRiseMb: number;
  readonly perThreadMb: number;
  /** Spawn helpers found, their RSS and PSS together (NaN without /proc). */
  readonly helpers: number;
  readonly helperRssMb: number;
  readonly helperPssMb: number;
  /** The process's rise plus the helpers' RSS: what the pool adds to the machine, counted as RSS (the target's figure). */
  readonly totalRiseMb: number;
  /** The same with the helpers' PSS: their pages shared with this process (the Node binary) counted once. */
  readonly totalRisePssMb: number;
}

/** Quiet time after the sweep before RSS is read, in milliseconds: threads done starting, their heaps settled. */
const SETTLE_AFTER_MS = 500;

const mib = (bytes: number) => bytes / 2 ** 20;

export async function memoryCase(ctx: CaseContext): Promise<MemoryFigures[]> {
  const world = mixedWorld(ctx.root, ctx.flags.providers);
  await settle(200);
  const rssBeforeMb = mib(process.memoryUsage.rss());
  const pool = createAuthProbePool({ probes: world.config, env: { ...world.vars } });
  try {
    const check = pool.createChecker({ agentDir: world.agentDir });
    await Promise.all(world.ids.map((id) => check(id).catch(() => null)));
    await sleep(SETTLE_AFTER_MS);
    collectGarbage();
    const rssAfterMb = mib(process.memoryUsage.rss());
    const threads = pool.stats().threads;
    const helperPids = childProcesses('spawn-helper') ?? [];
    const helperMemory = helperPids.map(processMemoryMb);
    const helperRssMb = helperPids.length === 0 ? Number.NaN : helperMemory.reduce((a, m) => a + m.rssMb, 0);
    const helperPssMb = helperPids.length === 0 ? Number.NaN : helperMemory.reduce((a, m) => a + m.pssMb, 0);
    const processRiseMb = rssAfterMb - rssBeforeMb;
    const figures: MemoryFigures = {
      providers: world.ids.length,
      threads,
      rssBeforeMb,
      rssAfterMb,
      processRiseMb,
      perThreadMb: threads > 0 ? processRiseMb / threads : Number.NaN,
      helpers: helperPids.length,
      helperRssMb,
      helperPssMb,
      totalRiseMb: processRiseMb + (Number.isNaN(helperRssMb) ? 0 : helperRssMb),
      totalRisePssMb: processRiseMb + (Number.isNaN(helperPssMb) ? 0 : helperPssMb),
    };
    ctx.progress(
      `RSS ${rssBeforeMb.toFixed(0)} -> ${rssAfterMb.toFixed(0)} MiB with ${threads} worker thread(s); ${helperPids.length} spawn helper(s), RSS ${helperRssMb.toFixed(1)} MiB, PSS ${helperPssMb.toFixed(1)} MiB`,
    );
    return [figures];
  } finally {
    await pool.close({ force: true });
  }
}
