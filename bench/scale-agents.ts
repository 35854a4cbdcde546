/**
 * `agents-json` and `agents-sqlite`: a gateway of `--agents` agents, each
 * with its own store, checks 5 providers for every agent at once: one
 * `pool.createChecker({ agentDir })` per agent and 5,000 `check(provider)`
 * calls in one turn, on a pool (`defaultProbeConfig`) that has never read
 * these agents' stores. Measured: the wall time to the last answer, the
 * loop's max and the longest GC pause; against "one thread's read time" (the
 * same probes in sequence in one worker thread, `scale-read-worker.ts`) and
 * the old way, the same probes in sequence on the main thread; and beside
 * them a bare pool (`scale-bare.ts`), what the same threads allow when the
 * main thread does next to nothing per check.
 *
 * Two bursts a run, on two sets of as many agents: the pool's first (`cold`:
 * a thread just started, five checks of a spare agent behind it, so neither
 * thread's code is compiled yet), then the measured one, on a pool that has
 * answered a burst like it, as a running gateway's has. One thread's read is
 * timed the same way: the first set, then the measured one, in one thread.
 * The targets judge the measured burst; the cold one is reported beside it
 * (a fresh process's first sweep has a target of its own, `first-sweep`).
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createAuthProbePool, defaultProbeConfig } from '../src/index.js';
import { watchLoop } from './loop-watch.js';
import { cpuMsSince, threadTimes, type ThreadTimes } from './proc.js';
import { createAgentProbeRunner, type RunnerInput } from './probe-runner.js';
import { createBarePool } from './scale-bare.js';
import { AGENT_PROVIDERS, jsonAgentsWorld, sqliteAgentsWorld, type AgentsWorld } from './scale-agents-world.js';
import { poolEnv, runNumbers, settle, since, touch, wrongAnswers, type CaseContext } from './scale-case.js';
import type { ReadWorkerData, ReadWorkerResult } from './scale-read-worker.js';
import { loadSqlite, NEEDS_SQLITE } from './sqlite-db.js';

const READ_WORKER = new URL('./scale-read-worker.js', import.meta.url);

/** One run's figures, of the measured burst but where named cold; times in milliseconds. */
export interface AgentsFigures {
  readonly agents: number;
  readonly checks: number;
  readonly wallMs: number;
  /** The pool's first burst, on the other set of agents, before this one (see the top). */
  readonly coldWallMs: number;
  readonly coldLoopMaxMs: number;
  readonly coldGcMaxMs: number;
  readonly coldIssueMs: number;
  /** The process's CPU time over the first burst, every thread's (`process.cpuUsage()`): see `cpuMs`. */
  readonly coldCpuMs: number;
  /** Calling every checker, before the first await: the main thread's share in the checks' turn. */
  readonly issueMs: number;
  /** The loop watcher's figures (`loop-watch.ts`): the 1 ms interval's longest gap, and the delay histogram's max. */
  readonly loopMaxMs: number;
  readonly delayMaxMs: number;
  readonly gcMaxMs: number;
  /**
   * The process's CPU time over the burst, every thread's (the gateway's, the workers', V8's helpers'): over the
   * machine's cores, the least wall the burst could have, however its threads were scheduled.
   */
  readonly cpuMs: number;
  /** That CPU by thread, where Linux's `/proc` tells (see {@link ThreadSplit}). */
  readonly mainCpuMs?: number;
  readonly workersCpuMs?: number;
  readonly workersWaitMs?: number;
  readonly helpersCpuMs?: number;
  /** Answers unlike the stores' (a rejected check counts). */
  readonly wrong: number;
  /** One worker thread reading the same stores in sequence, and the old way on the main thread (absent in an env variant). */
  readonly threadReadMs?: number;
  /** That thread's read of the first set, before: its code not yet compiled. */
  readonly coldThreadReadMs?: number;
  /** The process's CPU time over that thread's reads, of the measured set and of the first (see `cpuMs`). */
  readonly threadCpuMs?: number;
  readonly coldThreadCpuMs?: number;
  /**
   * The bare pool (`scale-bare.ts`: the same probes on as many threads, a Map lookup and a promise per check on the
   * main thread): the measured burst's wall and the process's CPU over it, and its first burst's wall.
   */
  readonly bareWallMs?: number;
  readonly bareCpuMs?: number;
  readonly coldBareWallMs?: number;
  /** The bare pool's measured burst by thread, as the pool's (`mainCpuMs` and the rest). */
  readonly bareMainCpuMs?: number;
  readonly bareWorkersCpuMs?: number;
  readonly bareWorkersWaitMs?: number;
  readonly bareHelpersCpuMs?: number;
  readonly oldWallMs?: number;
  readonly oldLoopMaxMs?: number;
}

/** Why the case cannot run on this Node, or undefined when it can. */
export function agentsSkipReason(kind: 'json' | 'sqlite'): string | undefined {
  return kind === 'sqlite' && !loadSqlite() ? NEEDS_SQLITE : undefined;
}

export async function agentsCase(ctx: CaseContext, kind: 'json' | 'sqlite'): Promise<AgentsFigures[]> {
  const t0 = performance.now();
  let world: AgentsWorld;
  let cleanup = () => {};
  if (kind === 'sqlite') {
    const sqlite = loadSqlite();
    if (!sqlite) throw new Error(NEEDS_SQLITE);
    // bench:sqlite's world lives in a temp dir of its own, outside this process's.
    const w = sqliteAgentsWorld(sqlite, 2 * ctx.flags.agents);
    const forget = ctx.onAbort(w.cleanup);
    world = w;
    cleanup = () => {
      w.cleanup();
      forget();
    };
  } else world = jsonAgentsWorld(ctx.root, 2 * ctx.flags.agents);
  try {
    const sets = splitSets(world, ctx.flags.agents);
    ctx.progress(
      `${world.agents.length} agents' stores written in ${(since(t0) / 1000).toFixed(1)} s (two sets of ${ctx.flags.agents}); ${world.withAuth} of ${world.agents.length * AGENT_PROVIDERS.length} checks have auth`,
    );
    const runs: AgentsFigures[] = [];
    for (const run of runNumbers(ctx)) {
      let figures = await poolRun(ctx, world, sets);
      if (!ctx.envVariant) figures = { ...figures, ...(await threadRead(ctx, world, sets)), ...(await bareRun(ctx, world, sets)), ...(await oldWay(ctx, world, sets)) };
      ctx.progress(
        `run ${run}/${ctx.flags.runs}: ${figures.checks} checks answered in ${figures.wallMs.toFixed(0)} ms (${figures.wrong} wrong), loop max ${figures.loopMaxMs.toFixed(1)} ms` +
          (figures.threadReadMs === undefined
            ? ''
            : `; one thread ${figures.threadReadMs.toFixed(0)} ms, bare pool ${figures.bareWallMs?.toFixed(0)} ms, old way ${figures.oldWallMs?.toFixed(0)} ms`) +
          `; the pool's first burst ${figures.coldWallMs.toFixed(0)} ms, loop max ${figures.coldLoopMaxMs.toFixed(1)} ms` +
          (figures.coldThreadReadMs === undefined ? '' : `, one thread's first ${figures.coldThreadReadMs.toFixed(0)} ms`),
      );
      runs.push(figures);
    }
    return runs;
  } finally {
    cleanup();
  }
}

/** The world's agents in two sets of `n`: the first burst's, and the measured one's. */
interface AgentSets {
  readonly first: AgentsWorld['agents'];
  readonly measured: AgentsWorld['agents'];
}

function splitSets(world: AgentsWorld, n: number): AgentSets {
  return { first: world.agents.slice(0, n), measured: world.agents.slice(n) };
}

async function poolRun(ctx: CaseContext, world: AgentsWorld, sets: AgentSets): Promise<AgentsFigures> {
  const pool = createAuthProbePool({ probes: defaultProbeConfig, ...poolEnv(ctx, world.vars) });
  try {
    // A started pool: a thread up, its code loaded; nothing of either set read.
    const checkerOf: CheckerOf = (agentDir) => pool.createChecker({ agentDir });
    const warm = checkerOf(world.spare);
    await Promise.all(AGENT_PROVIDERS.map((p) => warm(p)));
    await settle();
    const cold = await burst(checkerOf, sets.first);
    await settle();
    const { threads, ...b } = await burst(checkerOf, sets.measured);
    return {
      ...b,
      ...threads,
      coldWallMs: cold.wallMs,
      coldLoopMaxMs: cold.loopMaxMs,
      coldGcMaxMs: cold.gcMaxMs,
      coldIssueMs: cold.issueMs,
      coldCpuMs: cold.cpuMs,
      wrong: cold.wrong + b.wrong,
    };
  } finally {
    await pool.close({ force: true });
  }
}

type Burst = Pick<AgentsFigures, 'agents' | 'checks' | 'wallMs' | 'issueMs' | 'loopMaxMs' | 'delayMaxMs' | 'gcMaxMs' | 'cpuMs' | 'wrong'> & { readonly threads?: ThreadSplit | undefined };

/**
 * A burst's CPU by thread, from `/proc/self/task/<tid>/schedstat` (Linux): the gateway's thread; the pool's workers,
 * told by their nice value (the pool's threads and the bare pool's run niced, every other thread at the process's), with
 * how long they waited for a CPU while runnable; and every other thread (V8's helpers: collections and compiling, for
 * the gateway's thread and the workers alike). In milliseconds; undefined where `/proc` is unreadable or no thread is
 * niced (Piscina's optional `@napi-rs/nice` missing). A thread that ended during the burst is left out.
 */
export interface ThreadSplit {
  readonly mainCpuMs: number;
  readonly workersCpuMs: number;
  readonly workersWaitMs: number;
  readonly helpersCpuMs: number;
}

function threadSplit(before: readonly ThreadTimes[], after: readonly ThreadTimes[]): ThreadSplit | undefined {
  const was = new Map(before.map((t) => [t.tid, t]));
  const split = { mainCpuMs: 0, workersCpuMs: 0, workersWaitMs: 0, helpersCpuMs: 0 };
  let niced = false;
  for (const t of after) {
    const b = was.get(t.tid);
    const runMs = (t.runNs - (b?.runNs ?? 0)) / 1e6;
    if (t.tid === process.pid) split.mainCpuMs += runMs;
    else if (t.nice > 0) {
      niced = true;
      split.workersCpuMs += runMs;
      split.workersWaitMs += (t.waitNs - (b?.waitNs ?? 0)) / 1e6;
    } else split.helpersCpuMs += runMs;
  }
  return niced ? split : undefined;
}

/** An agent's checker: the pool's, or the bare pool's (see `scale-bare.ts`). */
type CheckerOf = (agentDir: string) => (provider: string) => Promise<boolean>;

/** Every agent of `agents` checked for its 5 providers at once, the loop watched: the pool's bursts and the bare pool's alike. */
async function burst(checkerOf: CheckerOf, agents: AgentsWorld['agents']): Promise<Burst> {
  const threads0 = threadTimes();
  const loop = await watchLoop();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const pending: Promise<boolean | null>[] = [];
  for (const agent of agents) {
    const check = checkerOf(agent.agentDir);
    for (const provider of AGENT_PROVIDERS) pending.push(check(provider).catch(() => null));
  }
  const issueMs = since(t0);
  const answers = await Promise.all(pending);
  const wallMs = since(t0);
  const cpuMs = cpuMsSince(cpu0);
  const threads = threadSplit(threads0, threadTimes());
  const l = await loop.stop();
  const wrong = wrongAnswers(answers, expectedOf(agents));
  return { agents: agents.length, checks: answers.length, wallMs, issueMs, loopMaxMs: l.loopMaxMs, delayMaxMs: l.delayMaxMs, gcMaxMs: l.gcMaxMs, cpuMs, wrong, threads };
}

const expectedOf = (agents: AgentsWorld['agents']) => agents.flatMap((a) => a.expected);

function runnerInput(ctx: CaseContext, world: AgentsWorld): RunnerInput {
  return { config: defaultProbeConfig, configDir: ctx.root, agentDir: world.spare, env: world.vars };
}

/** The same probes in sequence in one fresh worker thread, the first set then the measured one: each set's read time, in milliseconds. */
async function threadRead(ctx: CaseContext, world: AgentsWorld, sets: AgentSets): Promise<Required<Pick<AgentsFigures, 'threadReadMs' | 'coldThreadReadMs' | 'threadCpuMs' | 'coldThreadCpuMs'>>> {
  touch(world.files);
  const data: ReadWorkerData = {
    input: runnerInput(ctx, world),
    sets: [sets.first.map((a) => a.agentDir), sets.measured.map((a) => a.agentDir)],
    providers: AGENT_PROVIDERS,
    warmupAgentDir: world.spare,
  };
  const worker = new Worker(READ_WORKER, { workerData: data });
  try {
    const [result] = (await once(worker, 'message')) as [ReadWorkerResult];
    const wrong = wrongAnswers(result.answers, [...expectedOf(sets.first), ...expectedOf(sets.measured)]);
    if (wrong > 0) ctx.progress(`WARNING: one thread's read got ${wrong} answers wrong`);
    return {
      coldThreadReadMs: result.readMs[0] as number,
      threadReadMs: result.readMs[1] as number,
      coldThreadCpuMs: result.cpuMs[0] as number,
      threadCpuMs: result.cpuMs[1] as number,
    };
  } finally {
    await worker.terminate();
  }
}

/** The bare pool's two bursts, timed as the pool's are (`poolRun`): the first set then the measured one, after its spare agent's (see `scale-bare.ts`). */
type BareFigures = Required<Pick<AgentsFigures, 'bareWallMs' | 'bareCpuMs' | 'coldBareWallMs'>> & Pick<AgentsFigures, 'bareMainCpuMs' | 'bareWorkersCpuMs' | 'bareWorkersWaitMs' | 'bareHelpersCpuMs'>;

async function bareRun(ctx: CaseContext, world: AgentsWorld, sets: AgentSets): Promise<BareFigures> {
  touch(world.files);
  const bare = createBarePool(runnerInput(ctx, world));
  try {
    const spare = bare.checker(world.spare);
    await Promise.all(AGENT_PROVIDERS.map((p) => spare(p)));
    await settle();
    const cold = await burst(bare.checker, sets.first);
    await settle();
    const measured = await burst(bare.checker, sets.measured);
    if (cold.wrong + measured.wrong > 0) ctx.progress(`WARNING: the bare pool got ${cold.wrong + measured.wrong} answers wrong`);
    const figures: BareFigures = { bareWallMs: measured.wallMs, bareCpuMs: measured.cpuMs, coldBareWallMs: cold.wallMs };
    const t = measured.threads;
    if (!t) return figures;
    return { ...figures, bareMainCpuMs: t.mainCpuMs, bareWorkersCpuMs: t.workersCpuMs, bareWorkersWaitMs: t.workersWaitMs, bareHelpersCpuMs: t.helpersCpuMs };
  } finally {
    await bare.close();
  }
}

/** The same probes in sequence on the main thread, an agent's providers in one task: the first set untimed, then the measured one. */
async function oldWay(ctx: CaseContext, world: AgentsWorld, sets: AgentSets): Promise<{ oldWallMs: number; oldLoopMaxMs: number }> {
  const probeAgent = createAgentProbeRunner(runnerInput(ctx, world));
  // The main thread's parse cache would otherwise answer a second run from the first's reads.
  touch(world.files);
  for (const agent of sets.first) await probeAgent(agent.agentDir, AGENT_PROVIDERS);
  await settle();
  const loop = await watchLoop();
  const t0 = performance.now();
  const answers: boolean[] = [];
  for (const agent of sets.measured) answers.push(...(await probeAgent(agent.agentDir, AGENT_PROVIDERS)));
  const oldWallMs = since(t0);
  const l = await loop.stop();
  const wrong = wrongAnswers(answers, expectedOf(sets.measured));
  if (wrong > 0) ctx.progress(`WARNING: the old way got ${wrong} answers wrong`);
  return { oldWallMs, oldLoopMaxMs: l.loopMaxMs };
}
