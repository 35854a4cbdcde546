/**
 * What a benchmark mode is, apart from how each one runs (`modes.ts`, `pool-modes.ts`): its name, the interface
 * the measuring loop drives, and the context every mode is created with.
 */
import type { Scenario } from './scenario.js';

/** Every mode, in the order a run measures them. */
export const MODE_NAMES = ['idle', 'sync', 'yield', 'worker-per-sweep', 'pool', 'pool-adversarial', 'pool-large', 'pool-nice0', 'pool-hot', 'pool-cpu', 'pool-cpu-nice0'] as const;
export type ModeName = (typeof MODE_NAMES)[number];

/** One way of answering, as the measuring loop drives it: prepared once, then swept cold again and again. */
export interface Mode {
  readonly name: ModeName;
  /** Readies what a running gateway already has (threads started, code compiled, modules loaded). Not measured. */
  prepare(): Promise<void>;
  /** Runs before each measured sweep, outside the window: makes the next sweep cold. */
  beforeSweep(): void;
  /** The sweep a gateway's /models runs: the providers that have auth. Absent for `idle`. */
  readonly sweep?: () => Promise<string[]>;
  /** What `sweep` must answer, sorted. */
  readonly expected: readonly string[];
  /** Worker threads the mode's pool runs right now (pool modes only): what it actually ran with. */
  readonly poolThreads?: () => number;
  close(): Promise<void>;
}

/** What every mode is created with: the scenario and the command line's pool settings. */
export interface ModeContext {
  readonly scenario: Scenario;
  /** Worker threads (min = max) of the pool modes; undefined: the library's default. */
  readonly threads?: number | undefined;
  /** `spawnVia` of the pool modes; undefined: the library's default. */
  readonly spawnVia?: 'worker' | 'helper' | undefined;
  /** The `niceIncrement` of the `-nice0` modes (the other pools run at the library's default). */
  readonly niceIncrement: number;
  /** Memory the `pool-large` mode holds, in MiB. */
  readonly ballastMb: number;
}
