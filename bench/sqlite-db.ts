/**
 * node:sqlite as `bench:sqlite` uses it: loaded only where Node has it
 * (22.13+ and 24; the @types/node this package builds against predates it,
 * so the few calls used are typed here), the OpenClaw gateway's schema, and
 * its databases opened and checkpointed the way the gateway does.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';

export type SqlValue = string | number | bigint | null | Uint8Array;

/** The part of node:sqlite's StatementSync the benchmark calls. */
export interface Statement {
  run(...params: SqlValue[]): unknown;
  get(...params: SqlValue[]): Record<string, unknown> | undefined;
}

/** The part of node:sqlite's DatabaseSync the benchmark calls. */
export interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

export interface Sqlite {
  readonly DatabaseSync: new (path: string, options?: { readOnly?: boolean }) => Database;
}

/** What a Node without node:sqlite is told, in one line. */
export const NEEDS_SQLITE = `needs node:sqlite (Node >= 22.13 or 24); this is Node ${process.version}, nothing measured`;

/**
 * node:sqlite, or null where this Node has none (20, or 22 before 22.13 without --experimental-sqlite). Node 22's
 * one-time ExperimentalWarning about it is dropped while it loads (synchronously, here): the benchmark's output
 * is its table, and the pool keeps the warning off stderr too.
 */
export function loadSqlite(): Sqlite | null {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === 'string' ? warning : warning.message;
    if (type === 'ExperimentalWarning' && text.includes('SQLite')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return createRequire(import.meta.url)('node:sqlite') as Sqlite;
  } catch {
    return null;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** `PRAGMA user_version` the gateway (OpenClaw 2026.6) gives its databases. */
export const AGENT_SCHEMA_VERSION = 3;
export const STATE_SCHEMA_VERSION = 13;

/** An agent's `openclaw-agent.sqlite`: its own auth profiles, their usage, and its transcripts. */
export const AGENT_SCHEMA = `
  CREATE TABLE auth_profile_store (store_key TEXT PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL);
  CREATE TABLE auth_profile_state (state_key TEXT PRIMARY KEY, state_json TEXT NOT NULL, updated_at INTEGER NOT NULL);
  CREATE TABLE transcript_events (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT NOT NULL);
  CREATE INDEX transcript_events_session ON transcript_events (session_id, seq);`;

/** The gateway's `state/openclaw.sqlite`: machine state, the shared auth store among it. */
export const STATE_SCHEMA = `
  CREATE TABLE config_machine_state (state_key TEXT PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL);`;

export const SQL = {
  readStore: "SELECT store_json FROM auth_profile_store WHERE store_key = 'primary'",
  readMachineState: 'SELECT value_json FROM config_machine_state WHERE state_key = ?',
  writeState: "UPDATE auth_profile_state SET state_json = ?, updated_at = ? WHERE state_key = 'primary'",
  appendEvent: 'INSERT INTO transcript_events (session_id, seq, event_json) VALUES (?, ?, ?)',
  writeMachineState: 'UPDATE config_machine_state SET value_json = ?, updated_at_ms = ? WHERE state_key = ?',
} as const;

/** Opens a database as the gateway does: WAL, a 5 s busy timeout, `synchronous=NORMAL` (no fsync per commit). */
export function openAsGateway(sqlite: Sqlite, path: string): Database {
  const db = new sqlite.DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
  return db;
}

/** Size of a database's `-wal` file in bytes; 0 when there is none. */
export function walBytes(dbPath: string): number {
  try {
    return statSync(`${dbPath}-wal`).size;
  } catch {
    return 0;
  }
}

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, _RECOVERY, _TIMEOUT): "database is locked". */
export function isBusy(err: unknown): boolean {
  const e = err as { errcode?: unknown; message?: unknown };
  return (typeof e.errcode === 'number' && (e.errcode & 0xff) === 5) || /database is locked|SQLITE_BUSY/i.test(String(e.message));
}

/** One `PRAGMA wal_checkpoint(TRUNCATE)`: SQLite's result row, the WAL left, and how long it took. */
export interface CheckpointResult {
  readonly path: string;
  /** 1 when a reader or writer kept the checkpoint from finishing (after the busy timeout), else 0; -1 on an error. */
  readonly busy: number;
  /** SQLite's frame counts: after a TRUNCATE that succeeded both are 0 (the WAL was reset), so the sizes tell more. */
  readonly log: number;
  readonly checkpointed: number;
  readonly walBytesBefore: number;
  readonly walBytesAfter: number;
  readonly ms: number;
  readonly error?: string;
}

/**
 * Checkpoints `db` and truncates its WAL to zero bytes, waiting up to the
 * connection's busy timeout for readers to let go of it.
 */
export function checkpointTruncate(db: Database, path: string): CheckpointResult {
  const walBytesBefore = walBytes(path);
  const t0 = performance.now();
  try {
    const row = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() ?? {};
    const ms = performance.now() - t0;
    return { path, busy: Number(row['busy']), log: Number(row['log']), checkpointed: Number(row['checkpointed']), walBytesBefore, walBytesAfter: walBytes(path), ms };
  } catch (err) {
    const ms = performance.now() - t0;
    return { path, busy: -1, log: -1, checkpointed: -1, walBytesBefore, walBytesAfter: walBytes(path), ms, error: String((err as Error).message) };
  }
}
