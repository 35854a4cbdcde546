/**
 * The benchmark's result: every figure as one JSON object (the `modes` map,
 * the critical path, ratios, micro-figures, the targets and the machine),
 * and the table a person reads on the terminal.
 */
import { execFileSync } from 'node:child_process';
import { cpus, availableParallelism, loadavg, release, totalmem } from 'node:os';
import type { CriticalPath } from './critical-path.js';
import type { Flags } from './flags.js';
import { acksIn, medianFigures, windowFigures, type WindowFigures } from './figures.js';
import type { ModeRun } from './measure.js';
import type { MicroFigures } from './micro.js';
import type { ModeName } from './mode.js';
import { DEFAULT_NICE_INCREMENT } from '../src/config/options.js';
import { ratio, round, significant, summarize } from './stats.js';
import type { Target } from './targets.js';

export type { Target } from './targets.js';

export interface Machine {
  readonly cpus: number;
  readonly availableParallelism: number;
  readonly model: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
  /** 1-minute load average when the run started: other work on the machine. */
  readonly loadAvgAtStart: number;
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    availableParallelism: availableParallelism(),
    model: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: release(),
    loadAvgAtStart: round(loadavg()[0] ?? 0, 2),
  };
}

/** The checkout's short commit, or `unknown` outside a git checkout. */
export function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * A mode's figures: medians over its sweeps, except the ack latency
 * percentiles, which are taken over the acks of all its sweeps together (a
 * p99 needs hundreds of samples; one sweep has tens to hundreds).
 */
export interface ModeFigures extends WindowFigures {
  readonly sweeps: number;
  readonly peakRssMb: number;
  /** How far RSS rose above its level at the mode's start (after a full GC), in MiB: what the mode's threads and work cost. */
  readonly rssGrowthMb: number;
  /** Every sweep found exactly the providers with auth (null for `idle`). */
  readonly answersMatch: boolean | null;
  /** Warnings the liveness monitor (default thresholds) logged while the mode ran. */
  readonly livenessWarnings: number;
  /** Threads of the process with a non-zero nice value while the mode ran, and the main thread's. */
  readonly nicedThreads: number;
  readonly mainThreadNice: number;
  /** Worker threads the mode's pool actually ran (the most seen at the end of a sweep); null for modes without a pool. */
  readonly threads: number | null;
  /** Spawn helper processes alive after its sweeps (non-zero: command probes forked in helpers); null without a pool or /proc. */
  readonly spawnHelpers: number | null;
  /** Each sweep's own figures. */
  readonly perSweep: readonly WindowFigures[];
}

/**
 * What the library's default worker priority does: the check that it took effect in the default pool modes, and
 * those modes against their twins run at `--nice` (default 0, unniced).
 */
export interface NiceFinding {
  /** The default pools' niceIncrement (the library's default), and the twins'. */
  readonly increment: number;
  readonly contrast: number;
  /** Threads of the process running at a non-zero nice value during `pool` (its workers), and the main thread's nice value. */
  readonly nicedThreads: number | null;
  readonly mainThreadNice: number | null;
  /** Default figure / twin's figure, for the realistic sweep (`pool` / `pool-nice0`) and the CPU-bound one (`pool-cpu` / `pool-cpu-nice0`). */
  readonly realistic: Record<string, number> | null;
  readonly cpuBound: Record<string, number> | null;
}

export interface BenchResult {
  readonly command: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: Machine;
  readonly flags: Omit<Flags, 'out' | 'docs' | 'json'>;
  readonly scenario: {
    readonly providers: number;
    readonly withAuth: number;
    readonly kinds: Record<string, number>;
    readonly store: { profiles: number; providers: number; bytes: number };
    readonly hangTimeoutMs: number;
  };
  /** The slowest provider alone, cold, in milliseconds (null when not measured), and what it was. */
  readonly criticalPathMs: number | null;
  readonly criticalPath: CriticalPath | null;
  readonly modes: Partial<Record<ModeName, ModeFigures>>;
  readonly ratios: Partial<Record<ModeName, Record<string, number>>>;
  readonly micro: MicroFigures | null;
  readonly nice: NiceFinding;
  readonly targets: readonly Target[];
}

/** Rounds every number of a figures object to `digits` decimals. */
function rounded<T extends object>(o: T, digits = 2): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v, digits) : v])) as T;
}

export function modeFigures(run: ModeRun, livenessWarnings: number): ModeFigures {
  const perSweep = run.windows.map((w) => windowFigures(w, run.acks));
  const acks = summarize(run.windows.flatMap((w) => acksIn(run.acks, w).latencies));
  const answers = run.windows.map((w) => w.answersMatch);
  return {
    ...rounded({ ...medianFigures(perSweep), ackP50Ms: acks.p50, ackP99Ms: acks.p99, ackMaxMs: acks.max }),
    sweeps: run.windows.length,
    peakRssMb: round(run.peakRssMb, 1),
    rssGrowthMb: round(run.peakRssMb - run.startRssMb, 1),
    answersMatch: answers.every((a) => a === null) ? null : answers.every((a) => a === true),
    livenessWarnings,
    nicedThreads: run.threadNice.filter((t) => t.nice !== 0).length,
    mainThreadNice: run.threadNice.find((t) => t.tid === process.pid)?.nice ?? 0,
    threads: run.poolThreads,
    spawnHelpers: run.spawnHelpers,
    perSweep: perSweep.map((f) => rounded(f)),
  };
}

/** Each mode against `idle`, `sync` and `yield` (ack p99, loop max and wall time), and its wall time against the critical path. */
export function ratios(modes: Partial<Record<ModeName, ModeFigures>>, criticalPathMs: number | null = null): Partial<Record<ModeName, Record<string, number>>> {
  const out: Partial<Record<ModeName, Record<string, number>>> = {};
  for (const [name, m] of Object.entries(modes) as [ModeName, ModeFigures][]) {
    const r: Record<string, number> = {};
    for (const base of ['idle', 'sync', 'yield'] as const) {
      const b = modes[base];
      if (!b || base === name) continue;
      const suffix = base === 'idle' ? 'Idle' : base === 'sync' ? 'Sync' : 'Yield';
      r[`ackP99Vs${suffix}`] = significant(ratio(m.ackP99Ms, b.ackP99Ms));
      r[`loopMaxVs${suffix}`] = significant(ratio(m.loopMaxMs, b.loopMaxMs));
      if (base !== 'idle') r[`wallVs${suffix}`] = significant(ratio(m.wallMs, b.wallMs));
    }
    if (criticalPathMs !== null && m.wallMs > 0) r['wallVsCriticalPath'] = significant(ratio(m.wallMs, criticalPathMs));
    out[name] = r;
  }
  return out;
}

function niceVs(niced: ModeFigures | undefined, plain: ModeFigures | undefined): Record<string, number> | null {
  if (!niced || !plain) return null;
  return {
    cpuWaitPerWake: significant(ratio(niced.cpuWaitPerWakeUs, plain.cpuWaitPerWakeUs)),
    ackP99: significant(ratio(niced.ackP99Ms, plain.ackP99Ms)),
    loopP99: significant(ratio(niced.loopP99Ms, plain.loopP99Ms)),
    loopMax: significant(ratio(niced.loopMaxMs, plain.loopMaxMs)),
    wall: significant(ratio(niced.wallMs, plain.wallMs)),
  };
}

export function niceFinding(modes: Partial<Record<ModeName, ModeFigures>>, contrast: number): NiceFinding {
  const niced = modes.pool ?? modes['pool-cpu'];
  return {
    increment: DEFAULT_NICE_INCREMENT,
    contrast,
    nicedThreads: niced?.nicedThreads ?? null,
    mainThreadNice: niced?.mainThreadNice ?? null,
    realistic: niceVs(modes.pool, modes['pool-nice0']),
    cpuBound: niceVs(modes['pool-cpu'], modes['pool-cpu-nice0']),
  };
}

type Column = readonly [string, (m: ModeFigures, result: BenchResult) => string];

const COLUMNS: readonly Column[] = [
  ['wall ms', (m) => (m.wallMs > 0 ? m.wallMs.toFixed(0) : '-')],
  ['÷crit', (m, r) => (m.wallMs > 0 && r.criticalPathMs ? (m.wallMs / r.criticalPathMs).toFixed(2) : '-')],
  ['thr', (m) => (m.threads === null ? '-' : String(m.threads))],
  ['loop p50', (m) => m.loopP50Ms.toFixed(1)],
  ['loop p99', (m) => m.loopP99Ms.toFixed(1)],
  ['loop max', (m) => m.loopMaxMs.toFixed(1)],
  ['ELU', (m) => m.elu.toFixed(2)],
  ['CPU wait/wake µs', (m) => m.cpuWaitPerWakeUs.toFixed(0)],
  ['GC max', (m) => m.gcMaxMs.toFixed(1)],
  ['ack p50', (m) => m.ackP50Ms.toFixed(1)],
  ['ack p99', (m) => m.ackP99Ms.toFixed(1)],
  ['ack max', (m) => m.ackMaxMs.toFixed(1)],
  ['>3 s', (m) => String(m.acksOver3s)],
  ['RSS MB', (m) => m.peakRssMb.toFixed(0)],
  ['+RSS', (m) => m.rssGrowthMb.toFixed(0)],
  ['warns', (m) => String(m.livenessWarnings)],
  ['answers', (m) => (m.answersMatch === null ? '-' : m.answersMatch ? 'ok' : 'WRONG')],
];

/** What the pool modes' spawn helpers say about the `spawnVia` they ran with. */
function helpers(result: BenchResult): string {
  const seen = Object.values(result.modes)
    .map((m) => m.spawnHelpers)
    .filter((n) => n !== null);
  return seen.length === 0 ? '' : ` (spawn helpers alive after a pool mode: ${Math.max(...seen)})`;
}

/** The terminal table: one row per mode (medians), then ratios, micro-figures and targets. */
export function formatTable(result: BenchResult): string {
  const rows = Object.entries(result.modes).map(([name, m]) => [name, ...COLUMNS.map(([, f]) => f(m, result))]);
  const header = ['mode (median of sweeps)', ...COLUMNS.map(([h]) => h)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  const m = result.machine;
  const f = result.flags;
  const cp = result.criticalPath;
  const out = [
    `auth-probe-pool benchmark: ${result.scenario.providers} providers (${result.scenario.withAuth} with auth), ${f.sweeps} sweeps per mode, acks at ${f.ackHz}/s`,
    `pools: threads ${f.threads ?? 'the library default'}, spawnVia ${f.spawnVia ?? 'the library default'}${helpers(result)}; pool-large holds ${f.ballastMb} MiB`,
    `machine: ${m.cpus} x ${m.model}, ${m.memoryGiB} GiB, ${m.platform} ${m.kernel}, Node ${m.node}, load ${m.loadAvgAtStart} at start`,
    cp
      ? `critical path: ${cp.ms.toFixed(1)} ms, provider ${cp.provider} (${cp.kind}) alone, cold, median of ${cp.slowest[0]?.runs ?? 1}` +
        `${cp.slowest.length > 1 ? `; next ${cp.slowest[1]?.provider} (${cp.slowest[1]?.kind}) ${cp.slowest[1]?.ms.toFixed(1)} ms` : ''}; ${cp.measured} CLI/module providers measured, ${cp.threads} threads`
      : 'critical path: not measured',
    '',
    line(header),
    ...rows.map(line),
    '',
    'times in ms; ÷crit = wall / critical path; thr = worker threads the pool ran; loop = main-thread event-loop delay (1 ms resolution);',
    'ELU = its utilisation; CPU wait/wake = time the main thread waited for a CPU per wake-up (schedstat);',
    'GC max = longest main-thread GC pause; ack = latency of GET /ack from the load',
    'process, over all sweeps; RSS = peak of the process during the mode, +RSS = its rise over the mode; the rest: median of sweeps',
  ];
  const ratioLines = Object.entries(result.ratios).filter(([name]) => name !== 'idle');
  if (ratioLines.length > 0) {
    out.push('', 'ratios:');
    for (const [name, r] of ratioLines) {
      const pairs = Object.entries(r).map(([k, v]) => `${k} ${v}`);
      out.push(`  ${name.padEnd(17)} ${pairs.join(', ')}`);
    }
  }
  const u = result.micro;
  if (u) {
    out.push(
      '',
      'micro:',
      `  cached check ${u.cachedCheckNs.toFixed(0)} ns vs awaited Map.get ${u.mapAwaitNs.toFixed(0)} ns (x${u.cachedVsMap.toFixed(2)})`,
      `  dispatch per probe: ${u.dispatchSingleUs.toFixed(0)} µs alone, ${u.dispatchBatchedUs.toFixed(1)} µs batched (${u.batchedProviders} providers in ${u.batchedTasks} tasks)`,
      `  pool start to first answer ${u.poolStartMs.toFixed(1)} ms; ${u.workerRssMb.toFixed(1)} MiB RSS per worker thread`,
    );
  }
  const n = result.nice;
  if (n.nicedThreads !== null) {
    const vs = (r: Record<string, number> | null) =>
      r
        ? Object.entries(r)
            .map(([k, v]) => `${k} x${v}`)
            .join(', ')
        : 'not run';
    out.push(
      '',
      `nice: the default niceIncrement ${n.increment} put ${n.nicedThreads} threads at a non-zero nice value in pool (main thread at ${n.mainThreadNice}), read from /proc/self/task/*/stat; twins at ${n.contrast}`,
      `  pool / pool-nice0:          ${vs(n.realistic)}`,
      `  pool-cpu / pool-cpu-nice0:  ${vs(n.cpuBound)}`,
    );
  }
  if (result.targets.length > 0) {
    out.push('', 'targets:');
    for (const t of result.targets) out.push(`  [${t.met ? 'met' : 'MISSED'}] ${t.target}: ${t.value} (limit ${t.limit})`);
  }
  return out.join('\n');
}
