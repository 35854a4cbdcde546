/**
 * The targets, judged from the figures alone: a pure function, so a
 * test can feed it figures and read what is met and what is MISSED.
 */
import type { MicroFigures } from './micro.js';
import type { ModeName } from './mode.js';
import { ratio, significant } from './stats.js';

/** One target: the figure it judges, its limit (same unit), and whether the figure is within it. */
export interface Target {
  readonly target: string;
  readonly value: number;
  readonly limit: number;
  readonly met: boolean;
}

/** The figures of a mode the targets read, in milliseconds. */
export interface TargetFigures {
  readonly wallMs: number;
  readonly loopMaxMs: number;
  readonly ackP99Ms: number;
}

/** How far over the critical path a cold `pool` sweep may run: 25 %. */
export const CRITICAL_PATH_SLACK = 1.25;
/** How far the adversarial order's wall time may stray from `pool`'s, either way: 10 %. */
export const ORDER_TOLERANCE = 0.1;
/** Longest loop delay any pool mode may cause, in milliseconds (idle shows about 5 ms on the 2-core machine). */
export const LOOP_MAX_MS = 12;
/** Longest loop delay at scale (a thousand agents, ten thousand providers), in milliseconds. */
export const SCALE_LOOP_MAX_MS = 15;
/** How far a pool's ack p99 may be above idle's. */
export const ACK_P99_VS_IDLE = 1.5;

/**
 * The targets whose figures were measured, in a fixed order. `criticalPathMs`
 * is null when it was not measured. A figure that is NaN misses its target.
 */
export function targets(modes: Partial<Record<ModeName, TargetFigures>>, micro: Pick<MicroFigures, 'cachedVsMap'> | null, criticalPathMs: number | null): Target[] {
  const out: Target[] = [];
  const add = (target: string, value: number, limit: number, strict = false) =>
    out.push({ target, value: significant(value, 4), limit: significant(limit, 4), met: strict ? value < limit : value <= limit });
  const { idle, sync, pool } = modes;
  const adversarial = modes['pool-adversarial'];
  const hot = modes['pool-hot'];
  if (pool && criticalPathMs !== null) add(`pool wall <= ${CRITICAL_PATH_SLACK} x critical path (ms)`, pool.wallMs, CRITICAL_PATH_SLACK * criticalPathMs);
  if (pool && adversarial) add(`|pool-adversarial wall / pool wall - 1| <= ${ORDER_TOLERANCE}`, Math.abs(ratio(adversarial.wallMs, pool.wallMs) - 1), ORDER_TOLERANCE);
  if (pool && idle) add(`pool ack p99 / idle ack p99 <= ${ACK_P99_VS_IDLE}`, ratio(pool.ackP99Ms, idle.ackP99Ms), ACK_P99_VS_IDLE);
  for (const [name, m] of Object.entries(modes) as [ModeName, TargetFigures][]) {
    // The -nice0 twins run off the defaults, to show what the default priority buys: reported, not judged.
    if (name.startsWith('pool') && !name.endsWith('-nice0')) add(`${name} loop-delay max <= ${LOOP_MAX_MS} ms`, m.loopMaxMs, LOOP_MAX_MS);
  }
  if (hot && sync) add('pool-hot wall / sync wall <= 0.02', ratio(hot.wallMs, sync.wallMs), 0.02);
  if (micro) add('pool-hot cached check / awaited Map lookup <= 2', micro.cachedVsMap, 2);
  return out;
}
