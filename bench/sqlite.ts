/**
 * `npm run bench:sqlite`: the pool against the OpenClaw gateway's SQLite
 * auth store (2026.6+), under the gateway's own writes. A generated state
 * directory of `--agents` agent databases and the shared state database; a
 * writer in its own process committing what the gateway commits on every
 * request; four phases, each a window with the writer running:
 *
 * 1. alone: the writer only, its baseline commit latency and WAL growth;
 * 2. sync: every agent's store read on the main thread, the old way;
 * 3. pool-cold: a fresh pool (`defaultProbeConfig`), every agent's providers
 *    checked at once;
 * 4. pool-hot: the same sweep again, answered from the checkers' caches;
 * 5. alone-after: the writer only again, once the pool is closed: the noise
 *    between two identical phases, against which the others are read.
 *
 * Then, with the pool still open, each spare agent checked alone (the
 * critical path) and TRUNCATE checkpoints of the largest WALs and of the
 * state database. Prints a table and the targets, met or missed (or, with
 * `--json`, the JSON on one line and the table on stderr). Needs node:sqlite:
 * on a Node without it, one line says so and it exits 0.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuthProbePool, defaultProbeConfig, type AuthChecker, type AuthProbePool } from '../src/index.js';
import { FlagError, integerFlag, parseCommandLine, parseStrict } from './cli-args.js';
import { describeMachine, gitCommit } from './report.js';
import { NEEDS_SQLITE, loadSqlite } from './sqlite-db.js';
import { idle, poolCriticalPath, poolSweep, runPhase, scopeOf, syncCriticalPath, syncSweep, type PhaseContext, type PhaseFigures, type PhaseName } from './sqlite-phases.js';
import { formatSqliteTable, mib, relativeCheckpoint, sqliteTargets, type SqliteBenchResult } from './sqlite-report.js';
import { buildSqliteScenario, type SqliteScenario } from './sqlite-scenario.js';
import { startWriter, type Writer } from './sqlite-writer-control.js';

/** Agents beyond `--agents`, never swept: each read alone for the critical path. */
const SPARE_AGENTS = 5;
/** Agent databases (the largest WALs) checkpointed with TRUNCATE while the pool is open, besides the state database. */
const CHECKPOINT_AGENTS = 5;
/** After the checkpoints, time the pool has to notice them (and emit any spurious `change`) before it closes, in ms. */
const SETTLE_MS = 1000;

const DEFAULTS = { agents: 1000, providers: 'openai,anthropic,mistral,groq,deepseek', transcriptKb: 1024, writeRate: 200, windowMs: 20_000, seed: 1 } as const;

const USAGE = `Usage: npm run bench:sqlite -- [flags]   (or node dist/bench/sqlite.js [flags]; needs Node >= 22.13 or 24)

  --agents N           agents, each with its own openclaw-agent.sqlite (default ${DEFAULTS.agents}; ${SPARE_AGENTS} more are made for the critical path)
  --providers a,b      providers checked per agent (default ${DEFAULTS.providers})
  --transcript-kb KB   transcript text per agent database (default ${DEFAULTS.transcriptKb})
  --write-rate N       the writer's commits per second, over agents chosen at random (default ${DEFAULTS.writeRate})
  --window-ms MS       each phase's shortest window; the writer's figures are taken over it (default ${DEFAULTS.windowMs})
  --threads N          the pool's worker threads (min = max) (default: none passed, the library's default)
  --seed N             seed of the stores, transcripts and the writer's choices (default ${DEFAULTS.seed})
  --keep               keep the generated state directory (its path is printed)
  --json               print the JSON result to stdout (the table goes to stderr)
  --help`;

interface Flags {
  readonly agents: number;
  readonly providers: readonly string[];
  readonly transcriptKb: number;
  readonly writeRate: number;
  readonly windowMs: number;
  readonly threads: number | null;
  readonly seed: number;
  readonly keep: boolean;
  readonly json: boolean;
}

function parseFlags(argv: readonly string[]): Flags {
  const v = parseStrict(argv, {
    ...Object.fromEntries(['agents', 'providers', 'transcript-kb', 'write-rate', 'window-ms', 'threads', 'seed'].map((name) => [name, { type: 'string' as const }])),
    keep: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  const providers = (typeof v['providers'] === 'string' ? v['providers'] : DEFAULTS.providers).split(',').map((p) => p.trim());
  const bad = providers.find((p) => !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(p));
  if (bad !== undefined) throw new FlagError(`--providers: "${bad}" is not a provider id (lower-case letters, digits, . _ -)`);
  if (new Set(providers).size !== providers.length) throw new FlagError('--providers: a provider is named twice');
  return {
    agents: integerFlag(v['agents'], 'agents', 1, 100_000, DEFAULTS.agents),
    providers,
    transcriptKb: integerFlag(v['transcript-kb'], 'transcript-kb', 0, 64 * 1024, DEFAULTS.transcriptKb),
    writeRate: integerFlag(v['write-rate'], 'write-rate', 1, 5000, DEFAULTS.writeRate),
    windowMs: integerFlag(v['window-ms'], 'window-ms', 200, 600_000, DEFAULTS.windowMs),
    threads: v['threads'] === undefined ? null : integerFlag(v['threads'], 'threads', 1, 64, 0),
    seed: integerFlag(v['seed'], 'seed', 0, 2 ** 31 - 1, DEFAULTS.seed),
    keep: v['keep'] === true,
    json: v['json'] === true,
  };
}

const started = performance.now();
const progress = (line: string) => process.stderr.write(`[bench:sqlite ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);

async function main(flags: Flags, argv: readonly string[]): Promise<void> {
  const sqlite = loadSqlite();
  if (!sqlite) {
    process.stdout.write(flags.json ? `${JSON.stringify({ skipped: `bench:sqlite ${NEEDS_SQLITE}` })}\n` : `bench:sqlite ${NEEDS_SQLITE}\n`);
    return;
  }
  const machine = describeMachine();
  const startedAt = new Date().toISOString();
  const budget = Math.floor((flags.writeRate * flags.windowMs) / 1000);
  let scenario: SqliteScenario | undefined;
  let writer: Writer | undefined;
  let pool: AuthProbePool | undefined;
  const dropScenario = () => {
    if (!scenario) return;
    if (flags.keep) progress(`kept ${scenario.root}`);
    else scenario.cleanup();
  };
  // On a signal: the writer and the temp dir go at once; exiting ends the pool's threads.
  const onSignal = () => {
    writer?.kill();
    dropScenario();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const phases: Partial<Record<PhaseName, PhaseFigures>> = {};
  let result: SqliteBenchResult;
  try {
    progress(`${machine.cpus} x ${machine.model}, Node ${machine.node}; generating ${flags.agents} + ${SPARE_AGENTS} agents, ${flags.transcriptKb} KiB of transcript each`);
    const s = buildSqliteScenario(sqlite, { agents: flags.agents, spareAgents: SPARE_AGENTS, providers: flags.providers, transcriptKb: flags.transcriptKb, seed: flags.seed });
    scenario = s;
    progress(`generated ${mib(s.bytes.agentDbs)} MiB of agent databases in ${(s.generateMs / 1000).toFixed(1)} s under ${s.root}`);
    const w = await startWriter(
      [...s.agents, ...s.spares].map((a) => a.dbPath),
      s.stateDbPath,
      flags.writeRate,
    );
    writer = w;
    progress(`writer: ${s.agents.length + s.spares.length} databases opened and their WALs started in ${w.openMs.toFixed(0)} ms, ${flags.writeRate} commits/s`);
    const ctx: PhaseContext = { writer: w, windowMs: flags.windowMs, seed: flags.seed + 7, budget, cpus: machine.cpus, progress };
    const done = (p: PhaseFigures) => {
      phases[p.name] = p;
      progress(
        `${p.name}: ${p.checks > 0 ? `sweep ${p.wallMs.toFixed(0)} ms, ${p.wrong} wrong, ` : ''}loop max ${p.loopMaxMs.toFixed(1)} ms, ${p.writer.commits} commits p99 ${p.writer.commitMs.p99.toFixed(3)} ms, ${p.writer.busy} busy`,
      );
    };

    done(await runPhase('alone', ctx, idle));
    done(await runPhase('sync', ctx, () => syncSweep(sqlite, s)));
    const syncCritical = syncCriticalPath(sqlite, s);

    let changes = 0;
    let checkers: AuthChecker[] = [];
    const threads = flags.threads === null ? {} : { threads: { min: flags.threads, max: flags.threads } };
    const cold = async () => {
      const t0 = performance.now();
      // An empty pool env: the scope's HOME and OPENCLAW_STATE_DIR are all a probe sees, so the store decides alone.
      const p = createAuthProbePool({ probes: defaultProbeConfig, env: {}, ...threads });
      pool = p;
      p.on('change', () => changes++);
      const t1 = performance.now();
      checkers = s.agents.map((agent) => p.createChecker(scopeOf(s, agent)));
      const t2 = performance.now();
      const sweep = await poolSweep(s, s.agents, checkers);
      return { ...sweep, wallMs: performance.now() - t0, steps: { createPoolMs: t1 - t0, createCheckersMs: t2 - t1, ...sweep.steps } };
    };
    const view = { changes: () => changes, stats: () => pool?.stats() };
    done(await runPhase('pool-cold', ctx, cold, view));
    const poolThreads = pool ? (pool as AuthProbePool).stats().threads : null;
    done(await runPhase('pool-hot', ctx, () => poolSweep(s, s.agents, checkers), view));
    const poolCritical = pool ? await poolCriticalPath(pool, s) : null;
    progress(`critical path: sync ${syncCritical.ms.toFixed(2)} ms, pool ${poolCritical?.ms.toFixed(2) ?? '-'} ms; TRUNCATE checkpoints with the pool open`);
    const checkpoint = (await w.checkpoint(CHECKPOINT_AGENTS)).map(relativeCheckpoint(s.stateDir));
    await sleep(SETTLE_MS);
    const changeEvents = changes;
    await pool?.close();
    pool = undefined;
    // The writer alone again, nothing else changed: how far two identical phases differ on this machine.
    done(await runPhase('alone-after', ctx, idle));

    const partial = {
      phases,
      checkpoint,
      changeEvents,
      criticalPath: { sync: syncCritical, pool: poolCritical },
      scenario: {
        agents: s.agents.length,
        spareAgents: s.spares.length,
        providers: s.providers,
        withAuth: s.withAuth,
        profiles: s.profiles,
        agentDbMiB: mib(s.bytes.agentDbs),
        transcriptMiB: mib(s.bytes.transcripts),
        generateMs: Math.round(s.generateMs),
        writerOpenMs: Math.round(w.openMs),
      },
    };
    result = {
      command: argv.length === 0 ? 'npm run bench:sqlite' : `node dist/bench/sqlite.js ${argv.join(' ')}`,
      startedAt,
      durationS: 0,
      machine,
      commit: gitCommit(),
      euid: process.geteuid?.() ?? null,
      flags: {
        agents: flags.agents,
        providers: flags.providers,
        transcriptKb: flags.transcriptKb,
        writeRate: flags.writeRate,
        windowMs: flags.windowMs,
        threads: flags.threads,
        seed: flags.seed,
        budget,
      },
      poolThreads,
      ...partial,
      targets: sqliteTargets(partial),
    };
  } finally {
    await pool?.close({ force: true });
    await writer?.close();
    dropScenario();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  result = { ...result, durationS: Math.round((performance.now() - started) / 1000) };
  const table = formatSqliteTable(result);
  if (flags.json) {
    process.stderr.write(`${table}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else process.stdout.write(`${table}\n`);
  if ((phases.sync?.wrong ?? 0) > 0) progress("WARNING: the sync sweep disagreed with the generated answers: the benchmark's own rules or data are off");
  progress(`done in ${result.durationS} s`);
}

const argv = process.argv.slice(2);
try {
  await main(parseCommandLine(USAGE, parseFlags, argv), argv);
} catch (err) {
  // Everything was cleaned up on the way out (the pool, the writer, the temp dir): say what failed, exit 1.
  process.stderr.write(`bench:sqlite failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
