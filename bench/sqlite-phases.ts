/**
 * The measured phases of `bench:sqlite`, each a window of at least
 * `windowMs` with the writer running: the work (nothing, a sweep on the main
 * thread, a sweep through the pool) starts at its beginning, and the rest of
 * the window lets the writer's figures rest on as many commits in every
 * phase. Over the window: the main thread's event-loop delay (a 1 ms
 * histogram enabled a turn before the work, since one enabled in the same
 * turn as a stall does not record it) and a 1 ms heartbeat's longest gap.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { AuthChecker, AuthProbePool, PoolStats } from '../src/index.js';
import { collectGarbage, cpuMsSince } from './proc.js';
import { otherCpu } from './sqlite-cpu.js';
import { SQL, type Sqlite } from './sqlite-db.js';
import { answersOf, type Store } from './sqlite-profiles.js';
import type { Agent, SqliteScenario } from './sqlite-scenario.js';
import type { Writer, WriterFigures } from './sqlite-writer-control.js';
import { median } from './stats.js';

export const PHASES = ['alone', 'sync', 'pool-cold', 'pool-hot', 'alone-after'] as const;
export type PhaseName = (typeof PHASES)[number];

/** What a sweep found: its wall time (ms), checks made, answers unlike the scenario's, and checks that failed (counted wrong too). */
export interface SweepResult {
  readonly wallMs: number;
  readonly checks: number;
  readonly wrong: number;
  readonly errors: number;
  /** Main-thread steps of the sweep and their times, in milliseconds (`issueMs`: calling every checker, before the first await). */
  readonly steps?: Readonly<Record<string, number>>;
}

export interface PhaseFigures extends SweepResult {
  readonly name: PhaseName;
  /** Main-thread event-loop delay over the window, in milliseconds, and the 1 ms heartbeat's longest gap. */
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly beatMaxMs: number;
  /** When that gap began, in milliseconds from the work's start (negative: before it). */
  readonly beatMaxAtMs: number;
  /** Longest main-thread garbage-collection pause in the window, in milliseconds. */
  readonly gcMaxMs: number;
  /** Cores other processes than the benchmark and its writer kept busy over the window, on average (NaN without /proc). */
  readonly otherCpuCores: number;
  /** CPU the benchmark's process (main thread and pool workers) used over the window, in cores. */
  readonly processCpuCores: number;
  /** What the pool did over the window (null without a pool): SQLite stores' auth rows read again after a write, probes run. */
  readonly pool: { readonly storeRowChecks: number; readonly probesRun: number; readonly watchedPaths: number } | null;
  /** `change` events the pool emitted during the window (null without a pool). */
  readonly changeEvents: number | null;
  readonly writer: WriterFigures;
}

export interface PhaseContext {
  readonly writer: Writer;
  readonly windowMs: number;
  /** Seed of the writer's agents and events: the same in every phase. */
  readonly seed: number;
  /** Commits whose WAL growth is compared across phases: those a window holds at the write rate. */
  readonly budget: number;
  /** The machine's CPUs, for the other processes' share. */
  readonly cpus: number;
  readonly progress: (line: string) => void;
}

/** Time after the work before the window may end, so a stall at its very end is recorded, in milliseconds. */
const TAIL_MS = 100;
const NO_SWEEP: SweepResult = { wallMs: 0, checks: 0, wrong: 0, errors: 0 };

const loopDelay = monitorEventLoopDelay({ resolution: 1 });

/** The pool a phase watches: its `change` events so far, and its stats once it exists. */
export interface PoolView {
  changes(): number;
  stats(): PoolStats | undefined;
}

/** Runs `work` in a measured window, with the pool `view` when there is one. */
export async function runPhase(name: PhaseName, ctx: PhaseContext, work: () => Promise<SweepResult>, view?: PoolView): Promise<PhaseFigures> {
  collectGarbage();
  await ctx.writer.startPhase(name, ctx.seed, ctx.budget);
  const changesBefore = view?.changes() ?? 0;
  const statsBefore = view?.stats();
  let last = performance.now();
  let beatMaxMs = 0;
  let beatMaxFrom = 0;
  const beat = setInterval(() => {
    const t = performance.now();
    if (t - last > beatMaxMs) {
      beatMaxMs = t - last;
      beatMaxFrom = last;
    }
    last = t;
  }, 1);
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, e.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const others = otherCpu([process.pid, ctx.writer.pid], ctx.cpus);
  const cpu0 = process.cpuUsage();
  loopDelay.reset();
  loopDelay.enable();
  await sleep(2); // a turn or two, so the histogram's timer is running when the work starts
  const startedAt = performance.now();
  let sweep = NO_SWEEP;
  try {
    sweep = await work();
    await sleep(Math.max(startedAt + ctx.windowMs - performance.now(), TAIL_MS));
  } finally {
    loopDelay.disable();
    clearInterval(beat);
    gc.disconnect();
  }
  const otherCpuCores = others();
  const processCpuCores = cpuMsSince(cpu0) / (performance.now() - startedAt);
  const statsAfter = view?.stats();
  const writer = await ctx.writer.figures();
  return {
    name,
    ...sweep,
    loopP99Ms: loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : 0,
    loopMaxMs: loopDelay.count > 0 ? loopDelay.max / 1e6 : 0,
    beatMaxMs,
    beatMaxAtMs: beatMaxFrom - startedAt,
    gcMaxMs,
    otherCpuCores,
    processCpuCores,
    pool: statsAfter
      ? {
          storeRowChecks: statsAfter.storeRowChecks - (statsBefore?.storeRowChecks ?? 0),
          probesRun: statsAfter.probesRun - (statsBefore?.probesRun ?? 0),
          watchedPaths: statsAfter.watchedPaths,
        }
      : null,
    changeEvents: view ? view.changes() - changesBefore : null,
    writer,
  };
}

/** A phase with no work of its own: the writer alone. */
export const idle = async (): Promise<SweepResult> => NO_SWEEP;

/**
 * The old way, on the main thread: each agent's database opened read-only,
 * its store row read and parsed, and the shared store found through
 * `auth.sharedStore` and parsed, as upstream's checker does on a miss. The
 * answers follow the same rules as the scenario's.
 */
export function readAgentsSync(sqlite: Sqlite, scenario: SqliteScenario, agents: readonly Agent[]): SweepResult {
  const t0 = performance.now();
  let wrong = 0;
  let errors = 0;
  const state = new sqlite.DatabaseSync(scenario.stateDbPath, { readOnly: true });
  try {
    state.exec('PRAGMA busy_timeout = 5000');
    const machineState = state.prepare(SQL.readMachineState);
    for (const agent of agents) {
      try {
        const db = new sqlite.DatabaseSync(agent.dbPath, { readOnly: true });
        let own: Store;
        try {
          db.exec('PRAGMA busy_timeout = 5000');
          own = JSON.parse(String(db.prepare(SQL.readStore).get()?.['store_json'])) as Store;
        } finally {
          db.close();
        }
        const where = JSON.parse(String(machineState.get('auth.sharedStore')?.['value_json'])) as { location?: string };
        const shared: Store = where.location === 'state-db' ? (JSON.parse(String(machineState.get('authProfiles.store')?.['value_json'])) as Store) : { version: 1, profiles: {} };
        const answers = answersOf(own, shared, scenario.providers, Date.now());
        for (const [i, a] of answers.entries()) if (a !== agent.expected[i]) wrong++;
      } catch {
        errors++;
        wrong += scenario.providers.length;
      }
    }
  } finally {
    state.close();
  }
  return { wallMs: performance.now() - t0, checks: agents.length * scenario.providers.length, wrong, errors };
}

/** The sync sweep as a phase's work: after a turn of the loop, so the monitor is running when the stall begins. */
export async function syncSweep(sqlite: Sqlite, scenario: SqliteScenario): Promise<SweepResult> {
  await nextTurn();
  return readAgentsSync(sqlite, scenario, scenario.agents);
}

/** The scope a gateway passes for an agent: its directory, and an env with nothing but HOME and the state directory. */
export function scopeOf(scenario: SqliteScenario, agent: Agent) {
  return { agentDir: agent.agentDir, env: { HOME: scenario.home, OPENCLAW_STATE_DIR: scenario.stateDir } };
}

/** Every agent's every provider checked at once, through one checker per agent. */
export async function poolSweep(scenario: SqliteScenario, agents: readonly Agent[], checkers: readonly AuthChecker[]): Promise<SweepResult> {
  const t0 = performance.now();
  let errors = 0;
  const pending = agents.flatMap((_, i) =>
    scenario.providers.map((provider) =>
      (checkers[i] as AuthChecker)(provider).catch(() => {
        errors++;
        return null;
      }),
    ),
  );
  const issueMs = performance.now() - t0;
  const answers = await Promise.all(pending);
  const wallMs = performance.now() - t0;
  let wrong = 0;
  for (const [k, a] of answers.entries()) if (a !== agents[Math.floor(k / scenario.providers.length)]?.expected[k % scenario.providers.length]) wrong++;
  return { wallMs, checks: answers.length, wrong, errors, steps: { issueMs } };
}

/** One agent read alone: its median time over the spare agents, in milliseconds, and their wrong answers. */
export interface CriticalPath {
  readonly ms: number;
  readonly samples: readonly number[];
  readonly wrong: number;
}

/** Each spare agent read alone on the main thread. */
export function syncCriticalPath(sqlite: Sqlite, scenario: SqliteScenario): CriticalPath {
  const runs = scenario.spares.map((agent) => readAgentsSync(sqlite, scenario, [agent]));
  return { ms: median(runs.map((r) => r.wallMs)), samples: runs.map((r) => r.wallMs), wrong: runs.reduce((n, r) => n + r.wrong, 0) };
}

/** Each spare agent, fresh, checked alone on the started pool: its providers at once, through a checker of its own. */
export async function poolCriticalPath(pool: AuthProbePool, scenario: SqliteScenario): Promise<CriticalPath> {
  const runs: SweepResult[] = [];
  for (const agent of scenario.spares) runs.push(await poolSweep(scenario, [agent], [pool.createChecker(scopeOf(scenario, agent))]));
  return { ms: median(runs.map((r) => r.wallMs)), samples: runs.map((r) => r.wallMs), wrong: runs.reduce((n, r) => n + r.wrong, 0) };
}
