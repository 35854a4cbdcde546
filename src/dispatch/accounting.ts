/**
 * What the dispatcher counts and logs: the counters `stats()` reports, each
 * provider result's probes (and the slow ones, at `warn`), and each dispatch,
 * at `debug`.
 */
import { performance } from 'node:perf_hooks';
import type { ResolvedOptions } from '../config/options.js';
import type { ProbeKind, ProbeSkip, ProviderResult } from '../config/schema.js';

export interface DispatchCounters {
  tasks: number;
  providersProbed: number;
  probesRun: number;
  timeouts: number;
  crashes: number;
  /** Tasks run again because their thread ended for another task's probe. */
  collateralRuns: number;
  /** Probes run, by kind. */
  readonly probesByKind: Record<ProbeKind, number>;
}

export class Accounting {
  readonly counters: DispatchCounters = {
    tasks: 0,
    providersProbed: 0,
    probesRun: 0,
    timeouts: 0,
    crashes: 0,
    collateralRuns: 0,
    probesByKind: { env: 0, authProfiles: 0, openclawStore: 0, credentialFile: 0, command: 0, module: 0 },
  };
  readonly #options: Pick<ResolvedOptions, 'logger' | 'slowProbeMs'>;

  constructor(options: Pick<ResolvedOptions, 'logger' | 'slowProbeMs'>) {
    this.#options = options;
  }

  /**
   * Counts a provider's result in the stats, and logs its slow probes; returns how many probes it ran. `skipped`:
   * the probes its task was told to report as failed rather than run (see `recovery.ts`).
   */
  result(r: ProviderResult, skipped: readonly ProbeSkip[] | undefined): number {
    const { logger, slowProbeMs } = this.#options;
    for (const p of r.probes) {
      this.counters.probesByKind[p.kind]++;
      // A timeout the worker enforced itself (a command killed at its timeoutMs); one the watchdog enforced was
      // counted by the recovery, and comes back here as a skipped probe.
      if (p.error?.code === 'E_PROBE_TIMEOUT' && !skipped?.some((s) => s.position === p.position)) this.counters.timeouts++;
      if (p.durationMs >= slowProbeMs) {
        logger.warn(
          { provider: r.provider, probe: p.kind, index: p.index, source: p.source, durationMs: Math.round(p.durationMs), outcome: p.outcome, ...(p.error ? { code: p.error.code } : {}) },
          'slow auth probe',
        );
      }
    }
    this.counters.providersProbed++;
    this.counters.probesRun += r.probes.length;
    return r.probes.length;
  }

  /**
   * Logs a task's dispatch at `debug`: its providers answered, the probes they ran (`commands` of them command probes),
   * the worker thread that ran it (`thread`, its `threadId`; 0 if none started it), and the milliseconds since `started`
   * (`performance.now()`).
   */
  dispatched(task: { readonly answered: ReadonlyMap<number, unknown>; readonly probes: number; readonly commands: number }, thread: number, started: number): void {
    const { answered, probes, commands } = task;
    this.#options.logger.debug({ providers: answered.size, probes, commands, thread, durationMs: Math.round((performance.now() - started) * 100) / 100 }, 'dispatch');
  }
}
