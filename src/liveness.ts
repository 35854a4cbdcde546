/**
 * A liveness monitor for the gateway's own event loop: the same evidence the
 * benchmark measures, in production. Every `intervalMs` it reads the loop's
 * delay (perf_hooks `monitorEventLoopDelay`) and utilisation
 * (`performance.eventLoopUtilization`) since the last reading, and logs a
 * warning when one crosses its threshold.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { z } from 'zod';
import { AuthProbeError } from './errors.js';
import { ownLogger } from './logger.js';
import { PoolOptionsSchema } from './config/options.js';
import { formatZodError } from './config/zod-errors.js';

/** One interval's reading. */
export interface LivenessSample {
  /** Event-loop delay percentiles and maximum over the interval, in milliseconds. */
  readonly loopP50Ms: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  /** Share of the interval the loop spent running code rather than waiting, from 0 to 1. */
  readonly utilization: number;
  /** The interval's length as measured, in milliseconds (longer than `intervalMs` when the loop was blocked). */
  readonly elapsedMs: number;
}

const positiveMs = z.number().positive().max(3_600_000);

export const LivenessOptionsSchema = z.strictObject({
  /** Any pino-compatible logger (pino, Fastify's `app.log`) or `console`; warnings go through a child of it. Required. */
  logger: PoolOptionsSchema.shape.logger.unwrap(),
  /** How often the loop is read and the readings reset, in milliseconds. Default 1000. */
  intervalMs: positiveMs.min(10).optional(),
  /** Sampling resolution of the delay histogram, in milliseconds (integer, at least 1). Default 10. */
  resolutionMs: z.number().int().min(1).max(1000).optional(),
  /** Warn when the interval's p99 loop delay exceeds this many milliseconds. Default 100. */
  loopP99WarnMs: positiveMs.optional(),
  /** Warn when the interval's longest loop delay exceeds this many milliseconds. Default 500. */
  loopMaxWarnMs: positiveMs.optional(),
  /** Warn when the interval's loop utilisation exceeds this ratio (0 to 1). Default 0.9. */
  utilizationWarnRatio: z.number().positive().max(1).optional(),
  /** Called with every reading, warned about or not (for metrics). */
  onSample: z.custom<(sample: LivenessSample) => void>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
});

export type LivenessOptions = z.input<typeof LivenessOptionsSchema>;

/**
 * Starts monitoring the calling thread's event loop and returns a function
 * that stops it (idempotent). The timer is unref'd: the monitor never keeps a
 * process alive. Invalid options throw `AuthProbeError` `E_BAD_OPTIONS`.
 */
export function startLivenessMonitor(options: LivenessOptions): () => void {
  const parsed = LivenessOptionsSchema.safeParse(options);
  if (!parsed.success) throw new AuthProbeError('E_BAD_OPTIONS', formatZodError(parsed.error));
  const o = parsed.data;
  const logger = ownLogger(o.logger, { lib: 'auth-probe-pool', monitor: 'liveness' });
  const intervalMs = o.intervalMs ?? 1000;
  const p99WarnMs = o.loopP99WarnMs ?? 100;
  const maxWarnMs = o.loopMaxWarnMs ?? 500;
  const utilizationWarn = o.utilizationWarnRatio ?? 0.9;
  const onSample = o.onSample;

  const histogram = monitorEventLoopDelay({ resolution: o.resolutionMs ?? 10 });
  histogram.enable();
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  let lastAt = performance.now();
  let warning = false;

  const read = (): void => {
    const elu = performance.eventLoopUtilization(lastElu);
    lastElu = performance.eventLoopUtilization();
    const now = performance.now();
    // An empty histogram (no tick of the sampling timer yet) reports NaN and Infinity-like values.
    const has = histogram.count > 0;
    const sample: LivenessSample = {
      loopP50Ms: has ? histogram.percentile(50) / 1e6 : 0,
      loopP99Ms: has ? histogram.percentile(99) / 1e6 : 0,
      loopMaxMs: has ? histogram.max / 1e6 : 0,
      utilization: elu.utilization,
      elapsedMs: now - lastAt,
    };
    histogram.reset();
    lastAt = now;
    const over = sample.loopP99Ms > p99WarnMs || sample.loopMaxMs > maxWarnMs || sample.utilization > utilizationWarn;
    if (over) {
      logger.warn(round(sample), 'event loop delayed');
    } else if (warning) {
      logger.info(round(sample), 'event loop recovered');
    }
    warning = over;
    onSample?.(sample);
  };

  const timer = setInterval(read, intervalMs).unref();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    histogram.disable();
  };
}

function round(s: LivenessSample): Record<string, number> {
  const ms = (v: number) => Math.round(v * 10) / 10;
  return {
    loopP50Ms: ms(s.loopP50Ms),
    loopP99Ms: ms(s.loopP99Ms),
    loopMaxMs: ms(s.loopMaxMs),
    utilization: Math.round(s.utilization * 1000) / 1000,
    elapsedMs: Math.round(s.elapsedMs),
  };
}
