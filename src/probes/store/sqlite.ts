/**
 * Reading the gateway's SQLite databases from a worker, without ever getting
 * in the way of the gateway's own writers. Each read opens the database
 * read-only (never creating it), sets a short busy timeout, runs one
 * statement that is stepped to its end (so its implicit read transaction ends
 * with it: a WAL reader left open would stop every checkpoint and let the
 * gateway's WAL grow), and closes the handle. No handle is kept between
 * reads: a database replaced on disk is read anew, and nothing of ours holds
 * a lock or a snapshot while the gateway writes.
 *
 * `node:sqlite` is the SQLite of the gateway's own process (its in-process
 * lock bookkeeping is shared across threads, which a second SQLite copy in a
 * native addon would not be). It is loaded on first use, with its Node 22
 * ExperimentalWarning kept off the gateway's stderr; on Node 20, which lacks
 * it, an existing database is a failure (`E_SQLITE_UNAVAILABLE`), never an
 * absence.
 */
import { createHmac } from 'node:crypto';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { errorData, type ErrorData } from '../../errors.js';
import { fingerprintOfError, MISSING, type RowsRole } from '../fingerprint.js';
import type { WorkerInit } from '../../config/schema.js';

/** What the reader uses of `node:sqlite`, declared here: Node 20's types have no such module. */
interface Statement {
  get(): Record<string, unknown> | undefined;
}
interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}
interface SqliteModule {
  readonly DatabaseSync: new (path: string, options: { readonly readOnly: boolean }) => Database;
}

/**
 * How long a read waits for a lock, in milliseconds. WAL readers wait only in rare moments (a checkpoint resetting
 * the log, recovery after a crash): a short wait rides those out, and a longer one is the gateway's, not ours.
 */
export const BUSY_TIMEOUT_MS = 100;

let loaded: SqliteModule | null | undefined;

/** `node:sqlite`, or null where this Node has none. */
export function loadSqlite(): SqliteModule | null {
  if (loaded !== undefined) return loaded;
  // Node 22 warns on first load ("SQLite is an experimental feature"): a worker's warning reaches the gateway's
  // stderr, so that one warning, and only it, is dropped while the module loads (synchronously, here).
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === 'string' ? warning : warning.message;
    if ((type === 'ExperimentalWarning' || (warning as Error).name === 'ExperimentalWarning') && /SQLite/.test(text)) return;
    return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    loaded = createRequire(import.meta.url)('node:sqlite') as SqliteModule;
  } catch {
    loaded = null;
  } finally {
    process.emitWarning = emitWarning;
  }
  return loaded;
}

/** The rows one role reads: the agent's store; the state database's flag, store, and pre-v13 store. */
export interface AgentRows {
  readonly store: string | null;
}
export interface StateRows {
  readonly flag: string | null;
  readonly store: string | null;
  readonly legacyStore: string | null;
}

export type RowsRead<T> =
  | { readonly state: 'missing' }
  | { readonly state: 'ok'; readonly rows: T; readonly version: number; readonly digest: string }
  | {
      readonly state: 'failed';
      readonly error: ErrorData;
      readonly fingerprint: string;
      /** Its user_version, for a missing table. */
      readonly version?: number;
    };

/** The fingerprint a read gives its dependency: the rows' digest, `missing`, or the failure's code. */
export function fingerprintOfRows(read: RowsRead<unknown>): string {
  return read.state === 'ok' ? `rows:${read.digest}` : read.state === 'missing' ? MISSING : read.fingerprint;
}

const VERSION = '(SELECT user_version FROM pragma_user_version) AS version';
const AGENT_SQL = `SELECT ${VERSION}, (SELECT store_json FROM auth_profile_store WHERE store_key = 'primary') AS store`;
const STATE_SQL = `SELECT ${VERSION},
  (SELECT value_json FROM config_machine_state WHERE state_key = 'auth.sharedStore') AS flag,
  (SELECT value_json FROM config_machine_state WHERE state_key = 'authProfiles.store') AS store`;
/** Before the v13 schema the shared store had a table of its own; read only when the current row is absent. */
const LEGACY_STATE_SQL = `SELECT store_json AS store FROM auth_profile_stores WHERE store_key = 'shared'`;

/** The same for every read of a pool, in a probe or a verify pass, so both give a dependency one fingerprint. */
export interface ReadLimits {
  /** The longest JSON value read, in characters (the pool's `maxFileBytes`). */
  readonly maxChars: number;
  /** The key of the rows' digest. */
  readonly digestKey: string;
}

/** A pool's read limits, from what its workers are started with: one source, so a probe and a verify pass agree. */
export function readLimitsOf(init: Pick<WorkerInit, 'maxFileBytes' | 'digestKey'>): ReadLimits {
  return { maxChars: init.maxFileBytes, digestKey: init.digestKey };
}

export function readAgentRows(dbPath: string, limits: ReadLimits): RowsRead<AgentRows> {
  return read(dbPath, 'agent', limits, (db) => {
    const row = db.prepare(AGENT_SQL).get() ?? {};
    return { version: Number(row['version'] ?? 0), rows: { store: text(row['store']) } };
  });
}

export function readStateRows(dbPath: string, limits: ReadLimits): RowsRead<StateRows> {
  return read(dbPath, 'state', limits, (db) => {
    let row: Record<string, unknown>;
    try {
      row = db.prepare(STATE_SQL).get() ?? {};
    } catch (err) {
      // A state database from before auth moved into SQLite (it held pairing state only): no flag, no store.
      if (!noSuchTable(err)) throw err;
      row = { version: db.prepare(`SELECT ${VERSION}`).get()?.['version'] ?? 0, flag: null, store: null };
    }
    const rows = { flag: text(row['flag']), store: text(row['store']), legacyStore: null as string | null };
    if (rows.store === null) {
      try {
        rows.legacyStore = text(db.prepare(LEGACY_STATE_SQL).get()?.['store']);
      } catch (err) {
        if (!noSuchTable(err)) throw err;
      }
    }
    return { version: Number(row['version'] ?? 0), rows };
  });
}

/** The fingerprint of one role's rows now: what a verify pass compares with the one a probe recorded. */
export function rowsFingerprint(dbPath: string, role: RowsRole, limits: ReadLimits): string {
  return fingerprintOfRows(role === 'agent' ? readAgentRows(dbPath, limits) : readStateRows(dbPath, limits));
}

function read<T extends object>(dbPath: string, role: RowsRole, limits: ReadLimits, select: (db: Database) => { version: number; rows: T }): RowsRead<T> {
  try {
    // A FIFO or a device would block SQLite's open; a missing database is an absence, and is never created.
    const st = statSync(dbPath, { throwIfNoEntry: false });
    if (st === undefined) return { state: 'missing' };
    if (!st.isFile()) return failure(errorData('E_FILE_NOT_REGULAR', dbPath));
  } catch (err) {
    const fingerprint = fingerprintOfError(err);
    return fingerprint === MISSING ? { state: 'missing' } : failure(errorData('E_STORE_UNREADABLE', `${dbPath} (${(err as NodeJS.ErrnoException).code ?? 'stat'})`));
  }
  const sqlite = loadSqlite();
  if (!sqlite) return failure(errorData('E_SQLITE_UNAVAILABLE', `${dbPath} (this is Node ${process.version})`));
  let db: Database;
  try {
    db = new sqlite.DatabaseSync(dbPath, { readOnly: true });
  } catch (err) {
    return failure(classify(err, dbPath));
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const { version, rows } = select(db);
    for (const value of Object.values(rows)) {
      if (typeof value === 'string' && value.length > limits.maxChars) {
        return failure(errorData('E_FILE_TOO_LARGE', `${dbPath}: an auth row of ${value.length} characters, limit ${limits.maxChars}`));
      }
    }
    return { state: 'ok', rows, version, digest: digest(limits.digestKey, role, version, Object.values(rows)) };
  } catch (err) {
    // A missing table may be a newer schema's doing: its version goes with the failure, for the probe to judge.
    const version = noSuchTable(err) ? versionOf(db) : undefined;
    return failure(classify(err, dbPath), version);
  } finally {
    db.close();
  }
}

function versionOf(db: Database): number | undefined {
  try {
    return Number(db.prepare(`SELECT ${VERSION}`).get()?.['version'] ?? 0);
  } catch {
    return undefined;
  }
}

function failure(error: ErrorData, version?: number): RowsRead<never> {
  if (version === undefined) return { state: 'failed', error, fingerprint: `error:${error.code}` };
  return { state: 'failed', error, fingerprint: `error:${error.code}:${version}`, version };
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function noSuchTable(err: unknown): boolean {
  return /no such (table|column)/.test((err as Error).message ?? '');
}

/**
 * SQLite's result code as our error. Only SQLite's own words are kept (its generic text for the code, or a
 * missing table's name): the statements are ours and fixed, so no message can quote a row.
 */
function classify(err: unknown, dbPath: string): ErrorData {
  const e = err as { errcode?: unknown; errstr?: unknown; message?: unknown };
  const code = typeof e.errcode === 'number' ? e.errcode & 0xff : undefined;
  const said = typeof e.errstr === 'string' ? e.errstr : 'error';
  switch (code) {
    case 5: // SQLITE_BUSY
    case 6: // SQLITE_LOCKED
      return errorData('E_STORE_BUSY', `${dbPath} (${said})`);
    case 11: // SQLITE_CORRUPT
    case 26: // SQLITE_NOTADB
      return errorData('E_STORE_CORRUPT', `${dbPath} (${said})`);
    case 1: {
      const missing = /no such (table|column): [\w.]+/.exec(String(e.message ?? ''));
      if (missing) return errorData('E_STORE_SCHEMA_UNKNOWN', `${dbPath} (${missing[0]})`);
      return errorData('E_STORE_UNREADABLE', `${dbPath} (${said})`);
    }
    default:
      return errorData('E_STORE_UNREADABLE', `${dbPath} (${said}${code !== undefined ? `, SQLite code ${code}` : ''})`);
  }
}

/** A keyed digest of the rows: equal exactly when they are, and saying nothing of a secret in them. */
function digest(key: string, role: RowsRole, version: number, values: readonly unknown[]): string {
  const h = createHmac('sha256', key).update(`${role}\0${version}`);
  for (const v of values) h.update(typeof v === 'string' ? `\0s${v.length}:${v}` : '\0n');
  return h.digest('hex').slice(0, 32);
}
