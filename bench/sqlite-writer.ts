/**
 * The gateway's writes, in a process of its own (forked by
 * `sqlite-writer-control.ts` with the benchmark's own Node): on every
 * request, `BEGIN IMMEDIATE`, the agent's usage row rewritten, one
 * transcript event appended, `COMMIT`, at a steady `rate` over agents chosen
 * at random; and about once a second a row of the state database rewritten.
 * The auth stores themselves are never written: any `change` the pool
 * emits is spurious.
 *
 * Per phase it reports each commit's latency (BEGIN to COMMIT returned),
 * `SQLITE_BUSY` errors, how far it fell behind its schedule, the largest
 * `-wal` file it wrote, and how much every `-wal` grew over the phase's
 * first `budget` commits (from a snapshot of all of them at the phase's
 * start to one at that commit: whoever wrote the frames). Every phase
 * replays the same seeded choice of agents and events, so the growth
 * differs between phases only by what readers did to the WALs (and a
 * B-tree page split here or there). The WALs are not emptied between phases: emptying a
 * thousand at once is a storm of file events for the pool to follow, which
 * no gateway makes.
 *
 * Every WAL is started before the first phase with one small commit: the
 * first frame of a WAL is written with its header, which
 * `synchronous=NORMAL` fsyncs, and a running gateway pays that once per
 * 1000-page checkpoint, not on its first commit to each agent. Unstarted,
 * the first phase's p99 measured the disk.
 */
import { basename, dirname } from 'node:path';
import { AGENT_SCHEMA_VERSION, SQL, checkpointTruncate, isBusy, loadSqlite, openAsGateway, walBytes, type CheckpointResult, type Database, type Sqlite, type Statement } from './sqlite-db.js';
import { usageState } from './sqlite-profiles.js';
import { eventSource, type EventSource } from './sqlite-transcript.js';
import { seededRandom, type Random } from './scenario-util.js';
import { summarize, type Summary } from './stats.js';

export type WriterCommand =
  | { readonly type: 'init'; readonly agentDbs: readonly string[]; readonly stateDb: string; readonly rate: number }
  | { readonly type: 'phase'; readonly name: string; readonly seed: number; readonly budget: number }
  | { readonly type: 'figures' }
  | { readonly type: 'checkpoint'; readonly agents: number }
  | { readonly type: 'exit' };

export type WriterReply =
  | { readonly type: 'ready'; readonly openMs: number }
  | { readonly type: 'phase-started' }
  | { readonly type: 'figures'; readonly figures: WriterFigures }
  | { readonly type: 'checkpointed'; readonly results: readonly CheckpointResult[] }
  | { readonly type: 'failed'; readonly message: string };

export interface WriterFigures {
  readonly phase: string;
  readonly seconds: number;
  readonly commits: number;
  /** Commit latency, BEGIN IMMEDIATE to COMMIT returned, in milliseconds. */
  readonly commitMs: Summary;
  /** Commits that failed with SQLITE_BUSY ("database is locked"), and with anything else. */
  readonly busy: number;
  readonly errors: number;
  readonly firstError: string | null;
  /** Furthest a commit started behind its schedule, in milliseconds. */
  readonly lateMaxMs: number;
  /** Largest `-wal` file written in the phase, in bytes. WAL files only grow until a checkpoint truncates them. */
  readonly walPeakBytes: number;
  /**
   * How much the agents' `-wal` files grew over the phase's first `budget` commits (the same commits in every
   * phase), in bytes: all of them together, the most one grew, and whose.
   */
  readonly walGrowthTotalBytes: number;
  readonly walGrowthBytes: number;
  readonly walGrowthAgent: string | null;
  /** Commits to the state database, and its largest `-wal` file, in bytes. */
  readonly stateCommits: number;
  readonly stateWalPeakBytes: number;
}

interface Conn {
  readonly path: string;
  readonly db: Database;
  /** A commit that writes one page, outside any phase's figures. */
  readonly prime: Statement;
  readonly writeState: Statement;
  readonly appendEvent: Statement;
  readonly profileIds: readonly string[];
  seq: number;
}

const send = (reply: WriterReply) => process.send?.(reply);
const agentOf = (path: string) => basename(dirname(dirname(path)));

let conns: Conn[] = [];
let state: { db: Database; write: Statement; prime: Statement; path: string } | undefined;
let rate = 200;
let timer: NodeJS.Timeout | undefined;

/** The phase being measured (or the unmeasured time between phases). */
let phase = newPhase('between', 0, 0);

function newPhase(name: string, seed: number, budget: number) {
  return {
    name,
    budget,
    random: seededRandom(seed) as Random,
    events: eventSource(seededRandom(seed + 1)) as EventSource,
    origin: performance.now(),
    next: 0,
    latencies: [] as number[],
    busy: 0,
    errors: 0,
    firstError: null as string | null,
    lateMaxMs: 0,
    /** Each WAL's size before the phase's first commit to it. */
    /** Every agent's WAL size at the phase's start; the growth once `budget` commits are made. */
    walAtStart: walSizes(),
    walPeakBytes: 0,
    walGrowth: undefined as { total: number; bytes: number; agent: string | null } | undefined,
    stateCommits: 0,
    stateWalPeakBytes: 0,
  };
}

/** Every agent's `-wal` size now, in bytes (about 1,000 stats: a few milliseconds). */
function walSizes(): number[] {
  return conns.map((c) => walBytes(c.path));
}

/** How much the WALs grew since `start`: together, and the most one did. */
function walGrowth(start: readonly number[]): { total: number; bytes: number; agent: string | null } {
  const now = walSizes();
  let total = 0;
  let most = { bytes: 0, agent: null as string | null };
  now.forEach((size, i) => {
    const grew = size - (start[i] ?? 0);
    total += grew;
    if (grew > most.bytes) most = { bytes: grew, agent: agentOf((conns[i] as Conn).path) };
  });
  return { total, ...most };
}

function rollback(db: Database): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // No transaction was open (BEGIN itself failed).
  }
}

function failed(err: unknown): void {
  if (isBusy(err)) phase.busy++;
  else phase.errors++;
  phase.firstError ??= String((err as Error).message);
}

/** One request's transaction on a random agent. */
function commitOnce(): void {
  const conn = conns[Math.floor(phase.random() * conns.length)] as Conn;
  const at = Date.now();
  const t0 = performance.now();
  try {
    conn.db.exec('BEGIN IMMEDIATE');
    try {
      conn.writeState.run(usageState(conn.profileIds, at, phase.next), at);
      const session = `live-${agentOf(conn.path)}`;
      const seq = conn.seq++;
      conn.appendEvent.run(session, seq, phase.events(session, seq, at));
      conn.db.exec('COMMIT');
    } catch (err) {
      rollback(conn.db);
      throw err;
    }
    phase.latencies.push(performance.now() - t0);
  } catch (err) {
    failed(err);
  }
  const wal = walBytes(conn.path);
  phase.walPeakBytes = Math.max(phase.walPeakBytes, wal);
  if (phase.next === phase.budget - 1) phase.walGrowth = walGrowth(phase.walAtStart);
}

/** The gateway's own machine state, rewritten about once a second. */
function commitState(): void {
  if (!state) return;
  try {
    state.db.exec('BEGIN IMMEDIATE');
    state.write.run(JSON.stringify({ at: Date.now(), pid: process.pid }), Date.now(), 'gateway.heartbeat');
    state.db.exec('COMMIT');
    phase.stateCommits++;
  } catch (err) {
    rollback(state.db);
    failed(err);
  }
  phase.stateWalPeakBytes = Math.max(phase.stateWalPeakBytes, walBytes(state.path));
}

/** Runs every commit that is due, then sleeps until the next one. */
function pump(): void {
  const intervalMs = 1000 / rate;
  const now = performance.now();
  for (let n = 0; n < 1000 && phase.origin + phase.next * intervalMs <= now; n++) {
    phase.lateMaxMs = Math.max(phase.lateMaxMs, performance.now() - (phase.origin + phase.next * intervalMs));
    commitOnce();
    if (phase.next % rate === 0) commitState();
    phase.next++;
  }
  timer = setTimeout(pump, Math.max(0, phase.origin + phase.next * intervalMs - performance.now()));
}

/** One commit that rewrites a single row's timestamp, so the WAL's header is written (and fsynced) before any phase. */
function primeWal(target: { db: Database; prime: Statement }): void {
  try {
    target.db.exec('BEGIN IMMEDIATE');
    target.prime.run(Date.now());
    target.db.exec('COMMIT');
  } catch {
    rollback(target.db);
  }
}

function figures(): WriterFigures {
  const p = phase;
  // A phase cut short of its budget: the growth so far.
  const growth = p.walGrowth ?? walGrowth(p.walAtStart);
  return {
    phase: p.name,
    seconds: (performance.now() - p.origin) / 1000,
    commits: p.latencies.length,
    commitMs: summarize(p.latencies),
    busy: p.busy,
    errors: p.errors,
    firstError: p.firstError,
    lateMaxMs: p.lateMaxMs,
    walPeakBytes: p.walPeakBytes,
    walGrowthTotalBytes: growth.total,
    walGrowthBytes: growth.bytes,
    walGrowthAgent: growth.agent,
    stateCommits: p.stateCommits,
    stateWalPeakBytes: p.stateWalPeakBytes,
  };
}

/** TRUNCATE checkpoints, waiting up to the busy timeout (5 s) as the gateway would: the `agents` databases with the largest WALs, then the state database. */
function checkpoint(agents: number): CheckpointResult[] {
  const largest = [...conns].sort((a, b) => walBytes(b.path) - walBytes(a.path)).slice(0, agents);
  const results = largest.map((c) => checkpointTruncate(c.db, c.path));
  if (state) results.push(checkpointTruncate(state.db, state.path));
  return results;
}

function init(sqlite: Sqlite, command: Extract<WriterCommand, { type: 'init' }>): void {
  const t0 = performance.now();
  rate = command.rate;
  conns = command.agentDbs.map((path) => {
    const db = openAsGateway(sqlite, path);
    const version = Number(db.prepare('PRAGMA user_version').get()?.['user_version']);
    if (version !== AGENT_SCHEMA_VERSION) throw new Error(`${path}: user_version ${version}, expected ${AGENT_SCHEMA_VERSION}`);
    const store = JSON.parse(String(db.prepare(SQL.readStore).get()?.['store_json'])) as { profiles: Record<string, unknown> };
    const prime = db.prepare("UPDATE auth_profile_state SET updated_at = ? WHERE state_key = 'primary'");
    return { path, db, prime, writeState: db.prepare(SQL.writeState), appendEvent: db.prepare(SQL.appendEvent), profileIds: Object.keys(store.profiles), seq: 0 };
  });
  const db = openAsGateway(sqlite, command.stateDb);
  state = { db, write: db.prepare(SQL.writeMachineState), prime: db.prepare("UPDATE config_machine_state SET updated_at_ms = ? WHERE state_key = 'update.lastCheck'"), path: command.stateDb };
  for (const conn of conns) primeWal(conn);
  primeWal(state);
  send({ type: 'ready', openMs: performance.now() - t0 });
  pump();
}

function main(): void {
  const sqlite = loadSqlite();
  if (!sqlite) throw new Error(`the writer needs node:sqlite (this is Node ${process.version})`);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (command: WriterCommand) => {
    try {
      if (command.type === 'init') init(sqlite, command);
      else if (command.type === 'phase') {
        clearTimeout(timer);
        phase = newPhase(command.name, command.seed, command.budget);
        send({ type: 'phase-started' });
        pump();
      } else if (command.type === 'figures') {
        send({ type: 'figures', figures: figures() });
        // Between phases the gateway goes on writing, unmeasured.
        const { origin, next } = phase;
        phase = { ...newPhase('between', 0, 0), origin, next };
      } else if (command.type === 'checkpoint') send({ type: 'checkpointed', results: checkpoint(command.agents) });
      else process.exit(0);
    } catch (err) {
      send({ type: 'failed', message: String((err as Error).stack ?? err) });
    }
  });
}

main();
