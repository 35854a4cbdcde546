/**
 * `agents-json` and `agents-sqlite`: a gateway of `--agents` agents, each
 * with its own store, checks 5 providers for every agent at once: one
 * `pool.createChecker({ agentDir })` per agent and 5,000 `check(provider)`
 * calls in one turn, on a started pool (`defaultProbeConfig`) that has never
 * read these agents' stores. Measured: the wall time to the last answer, the
 * loop's max and the longest GC pause; against "one thread's read time" (the
 * same probes in sequence in one worker thread, `scale-read-worker.ts`) and
 * the old way, the same probes in sequence on the main thread.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createAuthProbePool, defaultProbeConfig } from '../src/index.js';
import { watchLoop } from './loop-watch.js';
import { createAgentProbeRunner, type RunnerInput } from './probe-runner.js';
import { AGENT_PROVIDERS, jsonAgentsWorld, sqliteAgentsWorld, type AgentsWorld } from './scale-agents-world.js';
import { poolEnv, runNumbers, settle, since, touch, wrongAnswers, type CaseContext } from './scale-case.js';
import type { ReadWorkerData, ReadWorkerResult } from './scale-read-worker.js';
import { loadSqlite, NEEDS_SQLITE } from './sqlite-db.js';

const READ_WORKER = new URL('./scale-read-worker.js', import.meta.url);

/** One run's figures; times in milliseconds. */
export interface AgentsFigures {
  readonly agents: number;
  readonly checks: number;
  readonly wallMs: number;
  /** Calling every checker, before the first await: the main thread's share in the checks' turn. */
  readonly issueMs: number;
  /** The loop watcher's figures (`loop-watch.ts`): the 1 ms interval's longest gap, and the delay histogram's max. */
  readonly loopMaxMs: number;
  readonly delayMaxMs: number;
  readonly gcMaxMs: number;
  /** Answers unlike the stores' (a rejected check counts). */
  readonly wrong: number;
  /** One worker thread reading the same stores in sequence, and the old way on the main thread (absent in an env variant). */
  readonly threadReadMs?: number;
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
    const w = sqliteAgentsWorld(sqlite, ctx.flags.agents);
    const forget = ctx.onAbort(w.cleanup);
    world = w;
    cleanup = () => {
      w.cleanup();
      forget();
    };
  } else world = jsonAgentsWorld(ctx.root, ctx.flags.agents);
  try {
    ctx.progress(`${world.agents.length} agents' stores written in ${(since(t0) / 1000).toFixed(1)} s; ${world.withAuth} of ${world.agents.length * AGENT_PROVIDERS.length} checks have auth`);
    const runs: AgentsFigures[] = [];
    for (const run of runNumbers(ctx)) {
      let figures = await poolRun(ctx, world);
      if (!ctx.envVariant) figures = { ...figures, threadReadMs: await threadRead(ctx, world), ...(await oldWay(ctx, world)) };
      ctx.progress(
        `run ${run}/${ctx.flags.runs}: ${figures.checks} checks answered in ${figures.wallMs.toFixed(0)} ms (${figures.wrong} wrong), loop max ${figures.loopMaxMs.toFixed(1)} ms` +
          (figures.threadReadMs === undefined ? '' : `; one thread ${figures.threadReadMs.toFixed(0)} ms, old way ${figures.oldWallMs?.toFixed(0)} ms`),
      );
      runs.push(figures);
    }
    return runs;
  } finally {
    cleanup();
  }
}

async function poolRun(ctx: CaseContext, world: AgentsWorld): Promise<AgentsFigures> {
  const pool = createAuthProbePool({ probes: defaultProbeConfig, ...poolEnv(ctx, world.vars) });
  try {
    // A started pool: a thread up, its code loaded and compiled on the spare agent; nothing of the measured agents read.
    const warm = pool.createChecker({ agentDir: world.spare });
    await Promise.all(AGENT_PROVIDERS.map((p) => warm(p)));
    await settle();
    const loop = await watchLoop();
    const t0 = performance.now();
    const pending: Promise<boolean | null>[] = [];
    for (const agent of world.agents) {
      const check = pool.createChecker({ agentDir: agent.agentDir });
      for (const provider of AGENT_PROVIDERS) pending.push(check(provider).catch(() => null));
    }
    const issueMs = since(t0);
    const answers = await Promise.all(pending);
    const wallMs = since(t0);
    const l = await loop.stop();
    const wrong = wrongAnswers(answers, expectedOf(world));
    return { agents: world.agents.length, checks: answers.length, wallMs, issueMs, loopMaxMs: l.loopMaxMs, delayMaxMs: l.delayMaxMs, gcMaxMs: l.gcMaxMs, wrong };
  } finally {
    await pool.close({ force: true });
  }
}

const expectedOf = (world: AgentsWorld) => world.agents.flatMap((a) => a.expected);

function runnerInput(ctx: CaseContext, world: AgentsWorld): RunnerInput {
  return { config: defaultProbeConfig, configDir: ctx.root, agentDir: world.spare, env: world.vars };
}

/** The same probes in sequence in one fresh worker thread; its read time, in milliseconds. */
async function threadRead(ctx: CaseContext, world: AgentsWorld): Promise<number> {
  touch(world.files);
  const data: ReadWorkerData = { input: runnerInput(ctx, world), agentDirs: world.agents.map((a) => a.agentDir), providers: AGENT_PROVIDERS, warmupAgentDir: world.spare };
  const worker = new Worker(READ_WORKER, { workerData: data });
  try {
    const [result] = (await once(worker, 'message')) as [ReadWorkerResult];
    const wrong = wrongAnswers(result.answers, expectedOf(world));
    if (wrong > 0) ctx.progress(`WARNING: one thread's read got ${wrong} answers wrong`);
    return result.readMs;
  } finally {
    await worker.terminate();
  }
}

/** The same probes in sequence on the main thread, an agent's providers in one task. */
async function oldWay(ctx: CaseContext, world: AgentsWorld): Promise<{ oldWallMs: number; oldLoopMaxMs: number }> {
  const probeAgent = createAgentProbeRunner(runnerInput(ctx, world));
  await probeAgent(world.spare, AGENT_PROVIDERS);
  // The main thread's parse cache would otherwise answer a second run from the first's reads.
  touch(world.files);
  await settle();
  const loop = await watchLoop();
  const t0 = performance.now();
  const answers: boolean[] = [];
  for (const agent of world.agents) answers.push(...(await probeAgent(agent.agentDir, AGENT_PROVIDERS)));
  const oldWallMs = since(t0);
  const l = await loop.stop();
  const wrong = wrongAnswers(answers, expectedOf(world));
  if (wrong > 0) ctx.progress(`WARNING: the old way got ${wrong} answers wrong`);
  return { oldWallMs, oldLoopMaxMs: l.loopMaxMs };
}
