/**
 * Measuring one mode: its sweeps run one at a time through the gateway's
 * `/models`, each inside a window over which the main thread's loop delay
 * (1 ms resolution) and utilisation are taken, while the load generator
 * sends acks for the whole mode. Acks are then attributed to the window
 * they were sent in.
 */
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Gateway } from './gateway.js';
import type { AckSample, LoadGenerator } from './load-control.js';
import type { Mode, ModeName } from './mode.js';
import { childProcessCount, collectGarbage, peakRssMb, resetPeakRss, schedStat, threadNiceValues, type ThreadNice } from './proc.js';
import { histogramMs, type Summary } from './stats.js';

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
export const now = () => performance.timeOrigin + performance.now();

/** After a sweep longer than the window, how long to keep measuring so the loop's last delay is recorded, in milliseconds. */
const TAIL_MS = 100;
/** Quiet time before each window, so a previous sweep's backlog of acks is answered outside it, in milliseconds. */
const SETTLE_MS = 300;

/** One measured sweep (or, for `idle`, one window with no sweep). */
export interface WindowRecord {
  /** Window bounds, epoch milliseconds. */
  readonly startAt: number;
  readonly endAt: number;
  /** The sweep's wall time inside the `/models` handler, in milliseconds (0 for `idle`). */
  readonly wallMs: number;
  /** Main-thread event-loop delay over the window, in milliseconds. */
  readonly loop: Summary;
  /** Main-thread event-loop utilisation over the window, 0 to 1. */
  readonly elu: number;
  /** Time the main thread spent runnable but waiting for a CPU over the window, in milliseconds (NaN without /proc). */
  readonly cpuWaitMs: number;
  /** That wait per timeslice the main thread ran, in microseconds: the typical delay of a wake-up. */
  readonly cpuWaitPerWakeUs: number;
  /** Main-thread garbage-collection pauses in the window: their total and the longest, in milliseconds. */
  readonly gcMs: number;
  readonly gcMaxMs: number;
  /** Whether the sweep found exactly the providers the scenario gave auth (null for `idle`). */
  readonly answersMatch: boolean | null;
  /** Worker threads the mode's pool ran once the sweep was answered (null for modes without a pool). */
  readonly poolThreads: number | null;
}

export interface ModeRun {
  readonly name: ModeName;
  readonly windows: readonly WindowRecord[];
  /** Every ack sent while the mode ran. */
  readonly acks: readonly AckSample[];
  /** Peak RSS of the process from the mode's start to its end, and RSS at its start (after a full GC), in MiB. */
  readonly peakRssMb: number;
  readonly startRssMb: number;
  /** The process's threads and their nice values once the mode was prepared (its workers started). */
  readonly threadNice: readonly ThreadNice[];
  /** Most worker threads the mode's pool ran at the end of a sweep (null for modes without a pool). */
  readonly poolThreads: number | null;
  /** Spawn helper processes (`spawnVia: 'helper'`) alive after the last sweep (null for modes without a pool, or without /proc). */
  readonly spawnHelpers: number | null;
  /** Mode bounds, epoch milliseconds. */
  readonly startAt: number;
  readonly endAt: number;
}

export interface MeasureContext {
  readonly gateway: Gateway;
  readonly load: LoadGenerator;
  /** Acks per second. */
  readonly ackHz: number;
  /** A window's shortest length, in milliseconds. */
  readonly windowMs: number;
  readonly sweeps: number;
  readonly progress: (line: string) => void;
}

const loopDelay = monitorEventLoopDelay({ resolution: 1 });

/** Runs the mode: prepare (unmeasured), then `sweeps` windows under ack load. Closes the mode. */
export async function runMode(mode: Mode, ctx: MeasureContext): Promise<ModeRun> {
  collectGarbage();
  resetPeakRss();
  const startRssMb = process.memoryUsage.rss() / 2 ** 20;
  const startAt = now();
  const windows: Omit<WindowRecord, 'gcMs' | 'gcMaxMs'>[] = [];
  let acks: AckSample[] = [];
  ctx.gateway.setSweep(mode.sweep);
  loopDelay.enable();
  let loadRunning = false;
  let threadNice: ThreadNice[] = [];
  let spawnHelpers: number | null = null;
  const pauses: { at: number; ms: number }[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ at: performance.timeOrigin + e.startTime, ms: e.duration });
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  try {
    await mode.prepare();
    threadNice = threadNiceValues();
    await ctx.load.start(ctx.gateway.url, ctx.ackHz);
    loadRunning = true;
    for (let i = 0; i < ctx.sweeps; i++) {
      const w = await measureWindow(mode, ctx);
      windows.push(w);
      ctx.progress(`${mode.name} ${i + 1}/${ctx.sweeps}: sweep ${Math.round(w.wallMs)} ms, loop max ${w.loop.max.toFixed(1)} ms${w.poolThreads === null ? '' : `, ${w.poolThreads} threads`}`);
    }
    // Outside every window: a scan of /proc is main-thread work.
    if (mode.poolThreads) spawnHelpers = childProcessCount('spawn-helper');
  } finally {
    if (loadRunning) acks = await ctx.load.stop();
    loopDelay.disable();
    gcObserver.disconnect();
    ctx.gateway.setSweep(undefined);
    await mode.close();
  }
  // GC entries arrive after the fact: attribute them to windows once the mode is over.
  const withGc = windows.map((w) => {
    const inside = pauses.filter((p) => p.at >= w.startAt && p.at < w.endAt).map((p) => p.ms);
    return { ...w, gcMs: inside.reduce((a, b) => a + b, 0), gcMaxMs: Math.max(0, ...inside) };
  });
  const threads = windows.map((w) => w.poolThreads).filter((t) => t !== null);
  const poolThreads = threads.length > 0 ? Math.max(...threads) : null;
  return { name: mode.name, windows: withGc, acks, peakRssMb: peakRssMb(), startRssMb, threadNice, poolThreads, spawnHelpers, startAt, endAt: now() };
}

async function measureWindow(mode: Mode, ctx: MeasureContext): Promise<Omit<WindowRecord, 'gcMs' | 'gcMaxMs'>> {
  mode.beforeSweep();
  await sleep(SETTLE_MS);
  loopDelay.reset();
  const elu0 = performance.eventLoopUtilization();
  const sched0 = schedStat();
  const startAt = now();
  let wallMs = 0;
  let answersMatch: boolean | null = null;
  let poolThreads: number | null = null;
  if (mode.sweep) {
    const models = await ctx.gateway.requestModels();
    wallMs = models.sweepMs;
    answersMatch = sameList([...models.providers].sort(), mode.expected);
    // Read at once, while the threads the sweep needed are surely still up.
    poolThreads = mode.poolThreads?.() ?? null;
  }
  await sleep(Math.max(startAt + ctx.windowMs - now(), TAIL_MS));
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const sched1 = schedStat();
  const waitNs = sched0 && sched1 ? sched1.waitNs - sched0.waitNs : Number.NaN;
  const slices = sched0 && sched1 ? sched1.slices - sched0.slices : Number.NaN;
  return { startAt, endAt: now(), wallMs, loop: histogramMs(loopDelay), elu, cpuWaitMs: waitNs / 1e6, cpuWaitPerWakeUs: waitNs / 1e3 / slices, answersMatch, poolThreads };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
