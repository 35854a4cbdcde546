/**
 * From measurements to figures: which acks belong to a window, one window's
 * figures, and each figure's median over a mode's windows.
 */
import type { AckSample } from './load-control.js';
import type { WindowRecord } from './measure.js';
import { median, summarize } from './stats.js';

/** Ack latencies (in milliseconds) of the acks sent within the window, and how many failed. */
export function acksIn(acks: readonly AckSample[], w: { startAt: number; endAt: number }): { latencies: number[]; failed: number } {
  const latencies: number[] = [];
  let failed = 0;
  for (const a of acks) {
    if (a.sentAt < w.startAt || a.sentAt >= w.endAt) continue;
    if (a.latencyMs < 0) failed++;
    else latencies.push(a.latencyMs);
  }
  return { latencies, failed };
}

/** The figures of one window. */
export interface WindowFigures {
  readonly wallMs: number;
  readonly loopP50Ms: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly elu: number;
  readonly cpuWaitMs: number;
  readonly cpuWaitPerWakeUs: number;
  readonly gcMaxMs: number;
  readonly ackP50Ms: number;
  readonly ackP99Ms: number;
  readonly ackMaxMs: number;
  /** Acks answered after more than 3 s (Discord's deadline), or not at all. */
  readonly acksOver3s: number;
  readonly acks: number;
}

export const ACK_DEADLINE_MS = 3000;

export function windowFigures(w: WindowRecord, acks: readonly AckSample[]): WindowFigures {
  const { latencies, failed } = acksIn(acks, w);
  const a = summarize(latencies);
  return {
    wallMs: w.wallMs,
    loopP50Ms: w.loop.p50,
    loopP99Ms: w.loop.p99,
    loopMaxMs: w.loop.max,
    elu: w.elu,
    cpuWaitMs: w.cpuWaitMs,
    cpuWaitPerWakeUs: w.cpuWaitPerWakeUs,
    gcMaxMs: w.gcMaxMs,
    ackP50Ms: a.p50,
    ackP99Ms: a.p99,
    ackMaxMs: a.max,
    acksOver3s: latencies.filter((l) => l > ACK_DEADLINE_MS).length + failed,
    acks: latencies.length + failed,
  };
}

/** Each figure's median over the windows. */
export function medianFigures(windows: readonly WindowFigures[]): WindowFigures {
  const keys = Object.keys(windows[0] ?? {}) as (keyof WindowFigures)[];
  return Object.fromEntries(keys.map((k) => [k, median(windows.map((w) => w[k]))])) as unknown as WindowFigures;
}
