/**
 * `clis`: a cold sweep of `--providers` providers, `--clis` of them with a
 * command probe of a fake CLI (a shell script that sleeps `--cli-ms`, then
 * exits 0) and the rest env probes, through one checker, on a pool of two
 * threads with `maxConcurrentCommands: 16`. Measured: the wall time, the
 * loop's max, and the most CLIs running at once. Each CLI appends `s` to a
 * log when it starts and `e` before it exits (appends of a few bytes with
 * O_APPEND land whole and in order), so the log's running count of starts
 * less ends is the number running at each moment, whatever the sampling.
 * The old way, `spawnSync` in sequence, takes `--clis` × `--cli-ms`: it runs
 * `--old-clis` of them and the rest is extrapolated (labelled so).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuthProbePool, type ProbeConfig } from '../src/index.js';
import { watchLoop } from './loop-watch.js';
import { createProbeRunner } from './probe-runner.js';
import { poolEnv, runNumbers, settle, since, wrongAnswers, type CaseContext } from './scale-case.js';
import { writeScript } from './scenario-util.js';

/** `maxConcurrentCommands` of the case's pool. */
export const CLI_CONCURRENCY = 16;

/** One run's figures; times in milliseconds. */
export interface ClisFigures {
  readonly providers: number;
  readonly clis: number;
  readonly wallMs: number;
  /** The loop watcher's figures (`loop-watch.ts`): the 1 ms interval's longest gap, and the delay histogram's max. */
  readonly loopMaxMs: number;
  readonly delayMaxMs: number;
  readonly gcMaxMs: number;
  /** The most fake CLIs running at once, and how many ran in all. */
  readonly maxConcurrent: number;
  readonly cliRuns: number;
  /** The least the sweep can take: ⌈clis / 16⌉ × the CLI's sleep. */
  readonly boundMs: number;
  readonly wrong: number;
  /** The old way (absent in an env variant): its wall time extrapolated to every CLI, what it ran, and its loop max over that. */
  readonly oldWallMs?: number;
  readonly oldMeasuredMs?: number;
  readonly oldClis?: number;
  readonly oldLoopMaxMs?: number;
}

/** The most lines of `s` less lines of `e` seen at once in a CLI log. */
export function maxRunning(log: string): { max: number; starts: number } {
  let running = 0;
  let max = 0;
  let starts = 0;
  for (const line of log.split('\n')) {
    if (line === 's') {
      starts++;
      max = Math.max(max, ++running);
    } else if (line === 'e') running--;
  }
  return { max, starts };
}

interface ClisWorld {
  readonly ids: readonly string[];
  readonly isCli: readonly boolean[];
  readonly config: (log: string) => ProbeConfig;
  readonly vars: Record<string, string>;
  readonly expected: readonly boolean[];
}

function clisWorld(ctx: CaseContext): ClisWorld {
  const { providers, clis, cliMs } = ctx.flags;
  const cli = writeScript(join(ctx.root, 'bin'), 'fake-cli', `echo s >> "$1"\nsleep ${(cliMs / 1000).toFixed(3)}\necho e >> "$1"\nexit 0`);
  const ids: string[] = [];
  const isCli: boolean[] = [];
  const expected: boolean[] = [];
  const vars: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: ctx.root };
  for (let i = 0; i < providers; i++) {
    ids.push(`c${String(i).padStart(5, '0')}`);
    // The CLI providers spread evenly over the sweep: exactly `clis` of them.
    const withCli = Math.floor(((i + 1) * clis) / providers) > Math.floor((i * clis) / providers);
    isCli.push(withCli);
    expected.push(withCli || i % 2 === 0);
    if (!withCli && i % 2 === 0) vars[`C${String(i).padStart(5, '0')}_KEY`] = `sk-${i}-0123456789abcdef`;
  }
  const config = (log: string): ProbeConfig => ({
    providers: Object.fromEntries(
      ids.map((id, i) => [id, isCli[i] ? [{ kind: 'command', command: cli, args: [log], timeoutMs: cliMs + 10_000 }] : [{ kind: 'env', vars: [`${id.toUpperCase()}_KEY`] }]]),
    ),
  });
  return { ids, isCli, config, vars, expected };
}

export async function clisCase(ctx: CaseContext): Promise<ClisFigures[]> {
  const world = clisWorld(ctx);
  const env = poolEnv(ctx, world.vars);
  const { clis, cliMs } = ctx.flags;
  const boundMs = Math.ceil(clis / CLI_CONCURRENCY) * cliMs;
  const runs: ClisFigures[] = [];
  for (const run of runNumbers(ctx)) {
    const log = join(ctx.root, `clis-${run}.log`);
    const pool = createAuthProbePool({ probes: world.config(log), ...env, threads: { min: 2, max: 2 }, maxConcurrentCommands: CLI_CONCURRENCY });
    let figures: ClisFigures;
    try {
      // A started pool (threads, and the spawn helper the configuration's command probes start with them), no answer kept.
      const first = world.ids[world.isCli.indexOf(false)] as string;
      await pool.createChecker()(first);
      pool.invalidate();
      await settle();
      const loop = await watchLoop();
      const t0 = performance.now();
      const check = pool.createChecker();
      const answers = await Promise.all(world.ids.map((id) => check(id).catch(() => null)));
      const wallMs = since(t0);
      const l = await loop.stop();
      const { max, starts } = maxRunning(readFileSync(log, 'utf8'));
      figures = {
        providers: world.ids.length,
        clis,
        wallMs,
        loopMaxMs: l.loopMaxMs,
        delayMaxMs: l.delayMaxMs,
        gcMaxMs: l.gcMaxMs,
        maxConcurrent: max,
        cliRuns: starts,
        boundMs,
        wrong: wrongAnswers(answers, world.expected),
      };
    } finally {
      await pool.close({ force: true });
    }
    if (!ctx.envVariant) figures = { ...figures, ...(await oldWay(ctx, world, join(ctx.root, `clis-old-${run}.log`))) };
    ctx.progress(
      `run ${run}/${ctx.flags.runs}: swept in ${figures.wallMs.toFixed(0)} ms (bound ${boundMs} ms), ${figures.maxConcurrent} CLIs at once at most, loop max ${figures.loopMaxMs.toFixed(1)} ms` +
        (figures.oldWallMs === undefined ? '' : `; old way ${figures.oldWallMs.toFixed(0)} ms (extrapolated from ${figures.oldClis} CLIs)`),
    );
    runs.push(figures);
  }
  return runs;
}

/**
 * The old way: every env provider and the first `--old-clis` CLI providers in sequence on the main thread
 * (`spawnSync`); its wall time extrapolated to all `--clis` CLIs from their measured mean.
 */
async function oldWay(ctx: CaseContext, world: ClisWorld, log: string) {
  const probe = createProbeRunner({ config: world.config(log), configDir: ctx.root, agentDir: ctx.root, env: world.vars });
  const envIds = world.ids.filter((_, i) => !world.isCli[i]);
  const cliIds = world.ids.filter((_, i) => world.isCli[i]).slice(0, ctx.flags.oldClis);
  await probe(envIds[0] as string);
  await settle();
  const loop = await watchLoop();
  const t0 = performance.now();
  for (const id of envIds) await probe(id);
  const envMs = since(t0);
  const t1 = performance.now();
  for (const id of cliIds) await probe(id);
  const cliMs = since(t1);
  const oldMeasuredMs = since(t0);
  const l = await loop.stop();
  return { oldWallMs: envMs + (cliMs / cliIds.length) * ctx.flags.clis, oldMeasuredMs, oldClis: cliIds.length, oldLoopMaxMs: l.loopMaxMs };
}
