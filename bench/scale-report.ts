/**
 * `bench:scale`'s result: every run's figures and their medians as one JSON
 * object, and the table a person reads on the terminal.
 */
import type { Machine } from './report.js';
import type { AgentsFigures } from './scale-agents.js';
import type { ClisFigures } from './scale-clis.js';
import type { FirstSweepFigures } from './scale-first-sweep.js';
import type { CaseName, ScaleFlags } from './scale-flags.js';
import type { IdsFigures } from './scale-ids.js';
import type { MemoryFigures } from './scale-memory.js';
import { MIXED_CLI_MS } from './scale-mixed.js';
import { ENV_FIGURES, type Target } from './scale-targets.js';
import type { WarmFigures } from './scale-warm.js';
import { median, round } from './stats.js';

/** A case's runs and the median of each figure over them; with `--env-vars`, its env variant's too. */
export interface CaseResult<F> {
  readonly runs: readonly F[];
  readonly median: F;
  readonly env?: { readonly vars: number; readonly runs: readonly F[]; readonly median: F } | undefined;
}

export interface ScaleCases {
  readonly 'warm-2k'?: CaseResult<WarmFigures>;
  readonly 'warm-10k'?: CaseResult<WarmFigures>;
  readonly 'agents-json'?: CaseResult<AgentsFigures>;
  readonly 'agents-sqlite'?: CaseResult<AgentsFigures>;
  readonly clis?: CaseResult<ClisFigures>;
  readonly 'ids-40k'?: CaseResult<IdsFigures>;
  /** Its critical path: the slowest provider alone, each run in a fresh process of its own. */
  readonly 'first-sweep'?: CaseResult<FirstSweepFigures> & { readonly criticalPath: CaseResult<FirstSweepFigures> };
  readonly memory?: CaseResult<MemoryFigures>;
}

export interface ScaleResult {
  readonly command: string;
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: Machine;
  readonly commit: string;
  readonly flags: Omit<ScaleFlags, 'json' | 'out'>;
  readonly cases: ScaleCases;
  /** Cases not run, and why (agents-sqlite on a Node without node:sqlite). */
  readonly skipped: Readonly<Partial<Record<CaseName, string>>>;
  /** Cases whose child process failed, and its error. */
  readonly failed: Readonly<Partial<Record<CaseName, string>>>;
  readonly targets: readonly Target[];
}

/**
 * The median of each numeric figure over `runs` (a figure absent, NaN or null in every run is NaN; one absent
 * from the first run is left out).
 */
export function medianFigures<F extends object>(runs: readonly F[]): F {
  const first = runs[0];
  if (!first) return {} as F;
  const out: Record<string, number> = {};
  for (const key of Object.keys(first)) {
    const values = runs.map((r) => (r as Record<string, unknown>)[key]).map((v) => (typeof v === 'number' ? v : Number.NaN));
    out[key] = median(values);
  }
  return out as F;
}

/** A case's result from its runs, and its env variant's. */
export function caseResult<F extends object>(runs: readonly F[], env?: { vars: number; runs: readonly F[] }): CaseResult<F> {
  return { runs, median: medianFigures(runs), ...(env ? { env: { vars: env.vars, runs: env.runs, median: medianFigures(env.runs) } } : {}) };
}

/** A figure for the table: fewer decimals as it grows; `-` when not measured. */
export function fmt(value: number | null | undefined): string {
  if (value === undefined || value === null || Number.isNaN(value)) return '-';
  if (Number.isInteger(value)) return String(value);
  const a = Math.abs(value);
  return value.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
}

type Row = readonly string[];

function table(header: Row, rows: readonly Row[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: Row) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The main table's columns, read from any case's medians (`-` where a case has no such figure). */
const COLUMNS: readonly (readonly [string, string])[] = [
  ['wall ms', 'wallMs'],
  ['call ms', 'callMs'],
  ['loop max', 'loopMaxMs'],
  ['delay max', 'delayMaxMs'],
  ['GC max', 'gcMaxMs'],
  ['1 thread ms', 'threadReadMs'],
  ['old wall ms', 'oldWallMs'],
  ['old loop max', 'oldLoopMaxMs'],
  ['wrong', 'wrong'],
];

function sizeOf(name: CaseName, m: Record<string, number>): string {
  switch (name) {
    case 'warm-2k':
    case 'warm-10k':
      return `${m['providers']} providers`;
    case 'agents-json':
    case 'agents-sqlite':
      return `${m['agents']} agents x 5`;
    case 'clis':
      return `${m['providers']} prov, ${m['clis']} CLIs`;
    case 'ids-40k':
      return `${m['ids']} ids`;
    case 'first-sweep':
    case 'memory':
      return `${m['providers']} providers`;
  }
}

/** A burst's CPU by thread (see `ThreadSplit` in `scale-agents.ts`). */
function byThread(mainMs: number, workersMs: number | undefined, waitMs: number | undefined, helpersMs: number | undefined): string {
  return `the gateway thread ${fmt(mainMs)} ms, the workers ${fmt(workersMs)} ms with ${fmt(waitMs)} ms waiting for a CPU, V8's helpers and other threads ${fmt(helpersMs)} ms`;
}

/** A burst's CPU time and the least wall it allows on `cpus` cores, as a multiple of one thread's read when there is one. */
function cpuFloor(cpuMs: number, cpus: number, threadReadMs: number | undefined): string {
  const floor = cpuMs / cpus;
  return `${fmt(cpuMs)} ms, no wall below ${fmt(floor)} ms${threadReadMs === undefined ? '' : ` (${fmt(floor / threadReadMs)} x one thread's read)`}`;
}

/** The terminal table: the machine, one row per case (medians), each case's own figures, the env comparison, the targets. */
export function formatScaleTable(result: ScaleResult): string {
  const m = result.machine;
  const f = result.flags;
  const out = [
    `auth-probe-pool scale benchmark (commit ${result.commit}): medians of ${f.runs} run${f.runs === 1 ? '' : 's'} per case (fewer where a case's runs passed ${f.caseBudgetS} s)`,
    `machine: ${m.cpus} x ${m.model}, ${m.memoryGiB} GiB, ${m.platform} ${m.kernel}, Node ${m.node}, load ${m.loadAvgAtStart} at start`,
    '',
  ];
  const cases = result.cases as Record<CaseName, CaseResult<Record<string, number>> | undefined>;
  const rows: Row[] = [];
  for (const [name, c] of Object.entries(cases) as [CaseName, CaseResult<Record<string, number>> | undefined][]) {
    // The memory case has no times: its own line below.
    if (!c || name === 'memory') continue;
    rows.push([name, sizeOf(name, c.median), String(c.runs.length), ...COLUMNS.map(([, key]) => fmt(c.median[key]))]);
  }
  out.push(...table(['case', 'size', 'runs', ...COLUMNS.map(([h]) => h)], rows));
  out.push(
    '',
    'times in ms. call = warm() until it returned its promise; loop max = longest gap between ticks of a 1 ms interval on the main thread;',
    'delay max = monitorEventLoopDelay max (1 ms resolution); GC max = longest main-thread GC pause; 1 thread = the same probes in sequence',
    'in one worker thread; old = the same probes in sequence on the main thread (its loop max is its wall time); wrong = answers unlike the',
    'generated data.',
  );
  const notes = caseNotes(result);
  if (notes.length > 0) out.push('', ...notes);
  for (const [name, reason] of Object.entries(result.skipped)) out.push(`${name}: skipped, ${reason}`);
  for (const [name, error] of Object.entries(result.failed)) out.push(`${name}: FAILED, ${error}`);
  const env = envRows(result);
  if (env.length > 0) {
    out.push('', `env variants: ${f.envVars} variables set in process.env, the pool created without an env option (it reads process.env); medians:`);
    out.push(...table(['case', 'figure', 'no env', 'env', 'rise', 'runs'], env));
  }
  if (result.targets.length > 0) {
    out.push('', 'targets:');
    for (const t of result.targets) out.push(`  [${t.met ? 'met' : 'MISSED'}] ${t.target}: ${t.value} (limit ${t.limit})`);
  }
  return out.join('\n');
}

function caseNotes(result: ScaleResult): string[] {
  const out: string[] = [];
  const { clis, memory } = result.cases;
  const ids = result.cases['ids-40k'];
  const first = result.cases['first-sweep'];
  if (clis) {
    const c = clis.median;
    out.push(
      `clis: at most ${fmt(c.maxConcurrent)} fake CLIs running at once (${fmt(c.cliRuns)} ran); least possible ${fmt(c.boundMs)} ms (${fmt(c.clis)} CLIs, 16 at once, ${result.flags.cliMs} ms each)` +
        (c.oldWallMs === undefined ? '' : `; old wall extrapolated from ${fmt(c.oldClis)} of ${fmt(c.clis)} CLIs run (${fmt(c.oldMeasuredMs)} ms measured)`),
    );
  }
  for (const name of ['agents-json', 'agents-sqlite'] as const) {
    const agents = result.cases[name];
    if (!agents) continue;
    const c = agents.median;
    out.push(
      `${name}: the row is the pool's second burst, on a second set of ${fmt(c.agents)} agents (its caller's turn ${fmt(c.issueMs)} ms); its first, on a thread just started: ` +
        `${fmt(c.coldWallMs)} ms, loop max ${fmt(c.coldLoopMaxMs)} ms, GC max ${fmt(c.coldGcMaxMs)} ms, caller's turn ${fmt(c.coldIssueMs)} ms` +
        (c.coldThreadReadMs === undefined ? '' : `; one thread's first read ${fmt(c.coldThreadReadMs)} ms`) +
        `. The process's CPU, every thread's, over ${result.machine.cpus} cores: ${cpuFloor(c.cpuMs, result.machine.cpus, c.threadReadMs)} in the second burst, ` +
        `${cpuFloor(c.coldCpuMs, result.machine.cpus, c.coldThreadReadMs)} in the first` +
        (c.threadCpuMs === undefined ? '' : `; over one thread's reads ${fmt(c.threadCpuMs)} ms and ${fmt(c.coldThreadCpuMs)} ms`) +
        (c.mainCpuMs === undefined ? '' : `. By thread in the second burst: ${byThread(c.mainCpuMs, c.workersCpuMs, c.workersWaitMs, c.helpersCpuMs)}`) +
        (c.bareWallMs === undefined || c.threadReadMs === undefined
          ? ''
          : `. A bare pool (the same probes and threads, a Map lookup and a promise per check on this thread): ${fmt(c.bareWallMs)} ms ` +
            `(${fmt(c.bareWallMs / c.threadReadMs)} x one thread's read), CPU ${fmt(c.bareCpuMs)} ms` +
            (c.bareMainCpuMs === undefined ? '' : `, by thread: ${byThread(c.bareMainCpuMs, c.bareWorkersCpuMs, c.bareWorkersWaitMs, c.bareHelpersCpuMs)}`) +
            `; its first burst ${fmt(c.coldBareWallMs)} ms`),
    );
  }
  if (ids) {
    const c = ids.median;
    out.push(
      `ids-40k: ${fmt(c.ids)} ids in ${fmt(c.bursts)} bursts; heap used ${fmt(c.heapBeforeMb)} MiB before, ${fmt(c.heapAfterBurstsMb)} after the bursts (${fmt(c.answersAfterBursts)} answers kept), ` +
        `${fmt(c.heapAfterExpiryMb)} after expiry (${fmt(c.answersLeft)} answers left after ${fmt(c.expiryWaitMs)} ms); ${fmt(c.rejected)} checks rejected`,
    );
  }
  if (first) {
    const c = first.median;
    out.push(
      `first-sweep: ${fmt(c.providers)} providers answered in ${fmt(c.wallMs)} ms on a fresh pool in a fresh process (created in ${fmt(c.createMs)} ms; worker threads: ${fmt(c.threads)}); ` +
        `critical path ${fmt(first.criticalPath.median.wallMs)} ms (the slowest provider, a ${MIXED_CLI_MS} ms CLI, alone in another fresh process); loop max from before the pool's creation`,
    );
  }
  if (memory) {
    const c = memory.median;
    out.push(
      `memory: process RSS ${fmt(c.rssBeforeMb)} -> ${fmt(c.rssAfterMb)} MiB (+${fmt(c.processRiseMb)}) with worker threads: ${fmt(c.threads)}, ${fmt(c.perThreadMb)} MiB per thread; ` +
        `${fmt(c.helpers)} spawn helper(s), RSS ${fmt(c.helperRssMb)} MiB (PSS ${fmt(c.helperPssMb)}); total rise ${fmt(c.totalRiseMb)} MiB (${fmt(c.totalRisePssMb)} with the helper's PSS)`,
    );
  }
  return out;
}

function envRows(result: ScaleResult): Row[] {
  const rows: Row[] = [];
  const cases = result.cases as Record<CaseName, CaseResult<Record<string, number>> | undefined>;
  for (const [name, figures] of Object.entries(ENV_FIGURES) as [CaseName, readonly (readonly [string, number])[]][]) {
    const c = cases[name];
    if (!c?.env) continue;
    // Every figure both variants have, the judged ones first.
    const judged = figures.map(([figure]) => figure);
    const keys = [...judged, ...['gcMaxMs', 'issueMs', 'heapAfterBurstsMb'].filter((k) => !judged.includes(k) && k in c.median)];
    for (const key of keys) {
      const base = c.median[key] ?? Number.NaN;
      const env = c.env.median[key] ?? Number.NaN;
      const rise = env - base;
      rows.push([name, key, fmt(base), fmt(env), `${rise >= 0 ? '+' : ''}${fmt(round(rise, 3))}`, `${c.runs.length} / ${c.env.runs.length}`]);
    }
  }
  return rows;
}
