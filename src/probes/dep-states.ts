/**
 * What the dependency watcher (`answers/watcher.ts`) needs to know of the
 * paths it follows, read in a worker: each file's fingerprint now, each SQLite
 * rows dependency's digest when its database or `-wal` changed (or must be
 * read whatever they say), and, for what is absent, the nearest existing
 * directory to watch it from. Every stat and read is here, off the gateway's
 * loop: on the main thread a promise-based `stat` costs 5-9 µs of the loop's
 * time each (its error object, for a missing file, most of it), and a
 * thousand agents follow thousands of paths.
 */
import { statSync, type BigIntStats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { absent, fingerprintOf, fingerprintOfError, MISSING, parseRowsKey, watchedFilesOf } from './fingerprint.js';
import { rowsFingerprint, type ReadLimits } from './store/sqlite.js';
import type { DepsTask, DepState } from '../config/schema.js';

/** The state of each of the task's dependencies, in its order. */
export function readDependencies(task: DepsTask, limits: ReadLimits): DepState[] {
  return task.deps.map((key, i) => readOne(key, task.signatures[i] ?? null, limits));
}

function readOne(key: string, signature: string | null, limits: ReadLimits): DepState {
  const rows = parseRowsKey(key);
  let state: DepState;
  if (rows) {
    // Taken before the read: a write during it is seen at the next event.
    const now = filesSignature(key);
    if (signature !== null && now === signature) return { signature: now };
    state = { signature: now, fingerprint: rowsFingerprint(rows.dbPath, rows.role, limits) };
  } else state = { fingerprint: fileFingerprint(key) };
  return absent(state.fingerprint) ? { ...state, anchors: nearestAnchors(key) } : state;
}

/** What a stat of `path` says, as `of` writes it: `missing` when it is not there, `error:<code>` when it cannot be stat'ed. */
function statAs(path: string, of: (st: BigIntStats) => string): string {
  try {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    return st === undefined ? MISSING : of(st);
  } catch (err) {
    return fingerprintOfError(err);
  }
}

/** A file's fingerprint now (see `fingerprint.ts`). */
export function fileFingerprint(path: string): string {
  return statAs(path, fingerprintOf);
}

/**
 * What the files of a rows dependency look like: device, inode, size and mtime of the database and its `-wal`.
 * Not ctime: an fchown or chmod changes that, never the rows (SQLite, run as root, fchowns the `-wal` on every
 * open: our own reads would wake us again). A probe takes it before its read, as the watcher's reads do.
 */
export function filesSignature(key: string): string {
  return watchedFilesOf(key)
    .map((file) => statAs(file, (st) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`))
    .join('|');
}

/** Two signatures of a database's files that differ at most by its `-wal` going from absent to empty (our own read-only open creates it so). */
export function sameFilesSignature(before: string, after: string): boolean {
  if (before === after) return true;
  const [db, wal] = before.split('|');
  const [dbAfter, walAfter] = after.split('|');
  const empty = (w: string | undefined) => w === MISSING || w?.split(':')[2] === '0';
  return db === dbAfter && empty(wal) && empty(walAfter);
}

/** Where each file of a missing dependency is watched from: its nearest existing directory, and the entry of it on the way. */
function nearestAnchors(key: string): [string, string][] {
  return watchedFilesOf(key).map((file) => {
    let dir = dirname(file);
    let name = basename(file);
    while (!isDirectory(dir) && dirname(dir) !== dir) {
      name = basename(dir);
      dir = dirname(dir);
    }
    return [dir, name];
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}
