/**
 * The world of `bench:sqlite`: an OpenClaw 2026.6+ state directory under a
 * temp dir, as the gateway leaves it.
 *
 * - `<stateDir>/agents/<agentId>/agent/openclaw-agent.sqlite` per agent
 *   (WAL, `user_version` 3): its auth store and usage rows (key `primary`)
 *   and `--transcript-kb` of transcript events;
 * - `<stateDir>/state/openclaw.sqlite` (WAL, `user_version` 13): machine
 *   state, with `auth.sharedStore` saying the shared auth store is in it and
 *   `authProfiles.store` holding that store;
 * - an empty home directory, so nothing but the store can give an answer.
 *
 * Each agent's database is filled with one prepared insert in one
 * transaction, without a journal, and switched to WAL at the end: a
 * thousand agents of 1 MiB each take seconds, not minutes.
 */
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_SCHEMA, AGENT_SCHEMA_VERSION, SQL, STATE_SCHEMA, STATE_SCHEMA_VERSION, type Database, type Sqlite } from './sqlite-db.js';
import { agentStore, answersOf, sharedStore, usageState, type Store } from './sqlite-profiles.js';
import { eventSource, type EventSource } from './sqlite-transcript.js';
import { seededRandom, type Random } from './scenario-util.js';

export interface SqliteScenarioOptions {
  /** Agents the sweeps check. */
  readonly agents: number;
  /** Agents beyond those, never swept: each is checked alone, fresh, for the critical path. */
  readonly spareAgents: number;
  readonly providers: readonly string[];
  /** Transcript text per agent, in KiB. */
  readonly transcriptKb: number;
  readonly seed: number;
}

export interface Agent {
  readonly id: string;
  /** The scope's `agentDir`: `<stateDir>/agents/<id>/agent`. */
  readonly agentDir: string;
  readonly dbPath: string;
  /** The answer each provider must get, in the scenario's provider order. */
  readonly expected: readonly boolean[];
}

export interface SqliteScenario {
  readonly root: string;
  /** The scope's HOME: an empty directory. */
  readonly home: string;
  readonly stateDir: string;
  readonly stateDbPath: string;
  readonly providers: readonly string[];
  readonly agents: readonly Agent[];
  readonly spares: readonly Agent[];
  /** Swept (agent, provider) pairs with auth, of `agents × providers`. */
  readonly withAuth: number;
  /** Profiles in the agents' stores (all of them) and in the shared store. */
  readonly profiles: { readonly agents: number; readonly shared: number };
  /** Bytes of the agent databases together, and of the transcript text in them. */
  readonly bytes: { readonly agentDbs: number; readonly transcripts: number };
  /** Time the generation took, in milliseconds. */
  readonly generateMs: number;
  /** Removes the temp dir. */
  cleanup(): void;
}

/** Builds the world in a new temp dir; on a failure the dir is removed and the error rethrown. */
export function buildSqliteScenario(sqlite: Sqlite, options: SqliteScenarioOptions): SqliteScenario {
  const t0 = performance.now();
  const root = mkdtempSync(join(tmpdir(), 'app-bench-sqlite-'));
  const cleanup = () => rmSync(root, { recursive: true, force: true });
  try {
    const random = seededRandom(options.seed);
    const events = eventSource(seededRandom(options.seed + 1));
    const now = Date.now();
    const home = join(root, 'home');
    const stateDir = join(root, 'openclaw');
    mkdirSync(home, { recursive: true });
    const shared = sharedStore(random, now);
    const stateDbPath = writeStateDb(sqlite, stateDir, shared, now);
    const all: Agent[] = [];
    let agentProfiles = 0;
    let transcripts = 0;
    let agentDbs = 0;
    for (let i = 0; i < options.agents + options.spareAgents; i++) {
      const id = `agent-${String(i).padStart(5, '0')}`;
      const agentDir = join(stateDir, 'agents', id, 'agent');
      const store = agentStore(random, options.providers, shared, now);
      const dbPath = join(agentDir, 'openclaw-agent.sqlite');
      mkdirSync(agentDir, { recursive: true });
      transcripts += writeAgentDb(sqlite, dbPath, store, events, random, options.transcriptKb * 1024, now);
      agentDbs += statSync(dbPath).size;
      agentProfiles += Object.keys(store.profiles).length;
      all.push({ id, agentDir, dbPath, expected: answersOf(store, shared, options.providers, now) });
    }
    const agents = all.slice(0, options.agents);
    return {
      root,
      home,
      stateDir,
      stateDbPath,
      providers: options.providers,
      agents,
      spares: all.slice(options.agents),
      withAuth: agents.reduce((n, a) => n + a.expected.filter(Boolean).length, 0),
      profiles: { agents: agentProfiles, shared: Object.keys(shared.profiles).length },
      bytes: { agentDbs, transcripts },
      generateMs: performance.now() - t0,
      cleanup,
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}

/**
 * Creates a database with `schema` and no journal (nothing to recover while it is built), runs `fill` in one
 * transaction, then switches it to WAL. The file is fsynced: the phases should not share the disk with the
 * generation's writeback.
 */
function build(sqlite: Sqlite, path: string, schema: string, userVersion: number, fill: (db: Database) => void): void {
  const db = new sqlite.DatabaseSync(path);
  try {
    db.exec(`PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; ${schema} PRAGMA user_version = ${userVersion};`);
    db.exec('BEGIN');
    fill(db);
    db.exec('COMMIT');
    db.exec('PRAGMA journal_mode = WAL');
  } finally {
    db.close();
  }
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeStateDb(sqlite: Sqlite, stateDir: string, shared: Store, now: number): string {
  const dir = join(stateDir, 'state');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'openclaw.sqlite');
  build(sqlite, path, STATE_SCHEMA, STATE_SCHEMA_VERSION, (db) => {
    const put = db.prepare('INSERT INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES (?, ?, ?)');
    put.run('auth.sharedStore', JSON.stringify({ location: 'state-db' }), now);
    put.run('authProfiles.store', JSON.stringify(shared), now);
    // Rewritten by the writer about once a second, as a gateway keeps its own machine state.
    put.run('gateway.heartbeat', JSON.stringify({ at: now, pid: 0 }), now);
    put.run('update.lastCheck', JSON.stringify({ at: now, version: '2026.6.3' }), now);
  });
  if (readMachineState(sqlite, path, 'auth.sharedStore') === undefined) throw new Error(`${path}: the shared store's row was not written`);
  return path;
}

/** Writes one agent's database; returns the bytes of transcript text in it. */
function writeAgentDb(sqlite: Sqlite, path: string, store: Store, events: EventSource, random: Random, transcriptBytes: number, now: number): number {
  let bytes = 0;
  build(sqlite, path, AGENT_SCHEMA, AGENT_SCHEMA_VERSION, (db) => {
    db.prepare("INSERT INTO auth_profile_store (store_key, store_json, updated_at) VALUES ('primary', ?, ?)").run(JSON.stringify(store), now);
    db.prepare("INSERT INTO auth_profile_state (state_key, state_json, updated_at) VALUES ('primary', ?, ?)").run(usageState(Object.keys(store.profiles), now, 0), now);
    const append = db.prepare(SQL.appendEvent);
    let session = '';
    let seq = 0;
    for (let at = now - 86_400_000; bytes < transcriptBytes; at += 1000) {
      // Sessions of a few dozen events, as chats are.
      if (seq === 0 || random() < 0.03) {
        session = `sess-${Math.floor(random() * 2 ** 32).toString(36)}`;
        seq = 0;
      }
      const event = events(session, seq, at);
      append.run(session, seq++, event);
      bytes += event.length;
    }
  });
  return bytes;
}

/** One `config_machine_state` row's JSON text, read through a connection of its own; undefined when absent. */
export function readMachineState(sqlite: Sqlite, stateDbPath: string, key: string): string | undefined {
  const db = new sqlite.DatabaseSync(stateDbPath, { readOnly: true });
  try {
    const row = db.prepare(SQL.readMachineState).get(key);
    return row === undefined ? undefined : String(row['value_json']);
  } finally {
    db.close();
  }
}
