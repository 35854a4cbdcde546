import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * Watches the main thread's event-loop delay across a test file, for the
 * figures reported with the fault suite. Never asserted on: machines here are
 * shared and noisy.
 */
export function loopMonitor(label: string): { stop(): void } {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  return {
    stop() {
      h.disable();
      console.log(`[loop] ${label}: max ${(h.max / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`);
    },
  };
}
