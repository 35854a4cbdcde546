/**
 * File fingerprints: a cheap identity of a file's content (device, inode,
 * size, mtime and ctime in nanoseconds). Workers record one for every path a
 * probe consulted; a worker reads them again after a watch event or on
 * the polling fallback (`dep-states.ts`), and the main thread compares them, so only answers whose files really changed are
 * re-probed. Shared by both sides so they agree on the format.
 */
import type { BigIntStats } from 'node:fs';

/** The fingerprint of a path that does not exist. */
export const MISSING = 'missing';

export function fingerprintOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** The fingerprint for a failed stat: `missing`, or `error:<code>`. */
export function fingerprintOfError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' ? MISSING : `error:${code ?? 'unknown'}`;
}

/** A fingerprint that says the path is not there (or could not be stat'ed): watched from an ancestor. */
export const absent = (fingerprint: string | undefined): boolean => fingerprint === undefined || fingerprint === MISSING || fingerprint.startsWith('error:');

/** What a probe consulted: path → fingerprint at the time. */
export type Dependencies = Map<string, string>;

/**
 * A SQLite store's auth rows as a dependency. The database changes on every message the gateway handles (its
 * transcripts, its usage state), so its files' fingerprints say nothing: the rows an answer rests on are
 * fingerprinted instead, by a keyed digest a worker computes (`rows:<digest>`, `missing`, or `error:<code>`). Their
 * key names the database and which rows (`agent`: the agent's `auth_profile_store`; `state`: the shared state
 * database's auth rows); the watcher follows the database file and its `-wal`, and asks a worker for the digest.
 */
export type RowsRole = 'agent' | 'state';

/** The prefixes of a rows key, by role. */
const AGENT_ROWS = 'sqlite:agent:';
const STATE_ROWS = 'sqlite:state:';

/** The dependency key of a database's auth rows. */
export function rowsKey(role: RowsRole, dbPath: string): string {
  return `${role === 'agent' ? AGENT_ROWS : STATE_ROWS}${dbPath}`;
}

/** The role a rows key names, or undefined for any other key. Prefixes compared, no match made: the watcher asks this of every dependency it follows, and keys are paths of a hundred characters. */
function rowsRoleOf(key: string): RowsRole | undefined {
  if (key.length <= AGENT_ROWS.length) return undefined;
  if (key.startsWith(AGENT_ROWS)) return 'agent';
  if (key.startsWith(STATE_ROWS)) return 'state';
  return undefined;
}

/** Whether a dependency key is a database's auth rows (see `parseRowsKey`): file paths never are. */
export function isRowsKey(key: string): boolean {
  return rowsRoleOf(key) !== undefined;
}

/** The database and rows a dependency key names, or undefined for a plain file path. */
export function parseRowsKey(key: string): { readonly role: RowsRole; readonly dbPath: string } | undefined {
  const role = rowsRoleOf(key);
  // Both prefixes are as long.
  return role === undefined ? undefined : { role, dbPath: key.slice(AGENT_ROWS.length) };
}

/**
 * A rows dependency as a probe records it: the rows' digest, and after `#` the signature its database's files had
 * when it read them (see `dep-states.ts`). The signature lets the watcher skip reading the rows again once it
 * follows them, when the files are as they were: comparisons are by the digest alone (`sameFingerprint`).
 */
export function withFilesSignature(fingerprint: string, signature: string): string {
  return fingerprint.startsWith('rows:') ? `${fingerprint}#${signature}` : fingerprint;
}

/** The files signature a rows dependency was recorded with, if any. */
export function filesSignatureOf(fingerprint: string): string | undefined {
  const at = fingerprint.startsWith('rows:') ? fingerprint.indexOf('#') : -1;
  return at < 0 ? undefined : fingerprint.slice(at + 1);
}

/** Whether two fingerprints of one dependency say the same: a rows digest's files signature is not part of it. */
export function sameFingerprint(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const da = a.startsWith('rows:') ? a.split('#', 1)[0] : a;
  const db = b.startsWith('rows:') ? b.split('#', 1)[0] : b;
  return da === db;
}

/** The files whose events may change a dependency: the path itself, or a database and its write-ahead log. */
export function watchedFilesOf(key: string): readonly string[] {
  const rows = parseRowsKey(key);
  return rows ? [rows.dbPath, `${rows.dbPath}-wal`] : [key];
}
