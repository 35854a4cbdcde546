import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** What the tests use of `node:sqlite` (Node 20's types have none). */
export interface Db {
  exec(sql: string): void;
  prepare(sql: string): { run(...params: unknown[]): unknown; get(...params: unknown[]): Record<string, unknown> | undefined };
  close(): void;
}
type DatabaseSync = new (path: string, options?: { readOnly?: boolean }) => Db;

function load(): DatabaseSync | undefined {
  try {
    return (createRequire(import.meta.url)('node:sqlite') as { DatabaseSync: DatabaseSync }).DatabaseSync;
  } catch {
    return undefined;
  }
}

const Database = load();

/** Whether this Node has `node:sqlite` (22.13 and later, 24): the SQLite tests run only there. */
export const hasSqlite = Database !== undefined;
export const NO_SQLITE = `node:sqlite is missing on Node ${process.version}: SQLite stores are read on Node 22.13+ and 24`;

/** Opens (creating) a database as the gateway does: WAL (or `journal`), busy timeout 5 s, synchronous NORMAL. */
export function openDb(path: string, journal: 'WAL' | 'DELETE' = 'WAL'): Db {
  if (!Database) throw new Error(NO_SQLITE);
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.exec(`PRAGMA journal_mode = ${journal}; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;`);
  return db;
}

export type Profiles = Record<string, Record<string, unknown>>;
const storeJson = (profiles: Profiles) => JSON.stringify({ version: 1, profiles });

/** An agent's `openclaw-agent.sqlite` with its auth tables (a `null` store leaves the row out) and a transcript table. */
export function writeAgentDb(path: string, profiles: Profiles | null, options: { userVersion?: number; journal?: 'WAL' | 'DELETE'; authTables?: boolean } = {}): void {
  const db = openDb(path, options.journal);
  try {
    db.exec('CREATE TABLE IF NOT EXISTS transcript_events (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, event_json TEXT NOT NULL)');
    if (options.authTables !== false) {
      db.exec('CREATE TABLE IF NOT EXISTS auth_profile_store (store_key TEXT PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL)');
      db.exec('CREATE TABLE IF NOT EXISTS auth_profile_state (state_key TEXT PRIMARY KEY, state_json TEXT NOT NULL, updated_at INTEGER NOT NULL)');
      if (profiles) setAgentProfiles(db, profiles);
    }
    db.exec(`PRAGMA user_version = ${options.userVersion ?? 3}`);
  } finally {
    db.close();
  }
}

/** Replaces an agent store's profiles, in a write transaction as the gateway makes it. */
export function setAgentProfiles(db: Db, profiles: Profiles): void {
  db.exec('BEGIN IMMEDIATE');
  db.prepare(`INSERT INTO auth_profile_store (store_key, store_json, updated_at) VALUES ('primary', ?, ?)
    ON CONFLICT(store_key) DO UPDATE SET store_json = excluded.store_json, updated_at = excluded.updated_at`).run(storeJson(profiles), Date.now());
  db.exec('COMMIT');
}

/** What the gateway writes on every message: its usage state and a transcript row, never the auth store. */
export function gatewayMessage(db: Db, n: number): void {
  db.exec('BEGIN IMMEDIATE');
  db.prepare(`INSERT INTO auth_profile_state (state_key, state_json, updated_at) VALUES ('primary', ?, ?)
    ON CONFLICT(state_key) DO UPDATE SET state_json = excluded.state_json, updated_at = excluded.updated_at`).run(JSON.stringify({ usageStats: { n } }), Date.now());
  db.prepare('INSERT INTO transcript_events (session_id, event_json) VALUES (?, ?)').run('s1', JSON.stringify({ n, text: 'x'.repeat(500) }));
  db.exec('COMMIT');
}

/** The shared state database: the flag row (`null`: absent), the shared store in the current or the pre-v13 layout. */
export function writeStateDb(path: string, options: { flag?: unknown; store?: Profiles; legacyStore?: Profiles; userVersion?: number }): void {
  const db = openDb(path);
  try {
    db.exec('CREATE TABLE IF NOT EXISTS config_machine_state (state_key TEXT PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL)');
    const put = db.prepare('INSERT OR REPLACE INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES (?, ?, ?)');
    if (options.flag !== undefined) put.run('auth.sharedStore', JSON.stringify(options.flag), Date.now());
    if (options.store) put.run('authProfiles.store', storeJson(options.store), Date.now());
    if (options.legacyStore) {
      db.exec('CREATE TABLE IF NOT EXISTS auth_profile_stores (store_key TEXT PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL)');
      db.prepare("INSERT OR REPLACE INTO auth_profile_stores VALUES ('shared', ?, ?)").run(storeJson(options.legacyStore), Date.now());
    }
    db.exec(`PRAGMA user_version = ${options.userVersion ?? 13}`);
  } finally {
    db.close();
  }
}
