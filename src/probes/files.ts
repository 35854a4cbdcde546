/**
 * Reading credential files safely from a worker, and remembering what was
 * derived from them. Every read checks the file type and size before opening,
 * opens non-blocking (a FIFO swapped in after the check must not block the
 * thread), and re-checks the opened descriptor. What a probe derives from a
 * file (the set of providers in a store, whether a pointer holds a string) is
 * cached per worker by path and fingerprint, so a sweep of hundreds of
 * providers over one store parses it once, and a changed file is re-read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type BigIntStats } from 'node:fs';
import type { ErrorData } from '../errors.js';
import { errorData } from '../errors.js';
import { fingerprintOf, fingerprintOfError, MISSING, type Dependencies } from './fingerprint.js';

export type FileRead<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly error: ErrorData;
      /** true when the file simply is not there */
      readonly missing: boolean;
    };

interface CacheEntry {
  readonly fingerprint: string;
  readonly derived: Map<string, FileRead<unknown>>;
}

/** Paths remembered per worker; the oldest is dropped beyond this. */
const MAX_CACHED_PATHS = 256;
const cache = new Map<string, CacheEntry>();

function describeType(st: BigIntStats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function statError(path: string, err: unknown): FileRead<never> {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, error: errorData('E_FILE_NOT_FOUND', path), missing: true };
  if (code === 'ELOOP') return { ok: false, error: errorData('E_FILE_UNREADABLE', `${path} (symlink loop)`), missing: false };
  return { ok: false, error: errorData('E_FILE_UNREADABLE', `${path} (${code ?? 'error'})`), missing: false };
}

/** Checks type and size, without opening. */
function checkStat(path: string, st: BigIntStats, maxBytes: number): FileRead<never> | undefined {
  if (!st.isFile()) return { ok: false, error: errorData('E_FILE_NOT_REGULAR', `${path} is ${describeType(st)}`), missing: false };
  if (st.size > BigInt(maxBytes)) {
    return { ok: false, error: errorData('E_FILE_TOO_LARGE', `${path} has ${st.size} bytes, limit ${maxBytes}`), missing: false };
  }
  return undefined;
}

function readBytes(path: string, expected: BigIntStats, maxBytes: number): FileRead<Buffer> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return statError(path, err);
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    const bad = checkStat(path, st, maxBytes);
    if (bad) return bad;
    if (st.ino !== expected.ino || st.dev !== expected.dev) {
      return { ok: false, error: errorData('E_FILE_UNREADABLE', `${path} was replaced while being read`), missing: false };
    }
    // Read until EOF but never past the limit: the file may grow after fstat.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(Number(st.size) - total, 0) + 1, 1 << 20));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) {
        return { ok: false, error: errorData('E_FILE_TOO_LARGE', `${path} grew past the limit of ${maxBytes} bytes`), missing: false };
      }
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
    return { ok: true, value: Buffer.concat(chunks, total) };
  } catch (err) {
    return { ok: false, error: errorData('E_FILE_UNREADABLE', `${path} (${(err as NodeJS.ErrnoException).code ?? 'read error'})`), missing: false };
  } finally {
    closeSync(fd);
  }
}

/** Parses JSON without letting V8's message (which quotes the input) escape. */
function parseJson(path: string, bytes: Buffer): FileRead<unknown> {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, error: errorData('E_JSON_INVALID', path), missing: false };
  }
}

/** A path's stat as `deriveFromJsonFile` took it: the stats and their fingerprint, none (missing), or the error. */
type Stat = { readonly st: BigIntStats; readonly fp: string } | { readonly st: undefined } | { readonly err: unknown };

function statOf(path: string): Stat {
  try {
    // Without an exception for a missing file (the common case: most probes look where nothing is), which costs
    // an Error and its stack per probe.
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    return st ? { st, fp: fingerprintOf(st) } : { st };
  } catch (err) {
    return { err };
  }
}

/**
 * Reads the JSON file at `path` and returns `derive(json)`, cached under
 * `key` until the file's fingerprint (device, inode, size, mtime, ctime)
 * changes. Read and parse errors are cached the same way. The path and its
 * fingerprint (or `missing`) are recorded in `deps`. With a task's `memo`,
 * the path is stat'ed once per task: an agent's five providers, and the main
 * agent's store under every agent of the task, share one stat.
 */
export function deriveFromJsonFile<T>(path: string, key: string, maxBytes: number, deps: Dependencies, derive: (json: unknown) => FileRead<T>, memo?: Map<string, unknown>): FileRead<T> {
  const statKey = `stat\0${path}`;
  let stat = memo?.get(statKey) as Stat | undefined;
  if (!stat) {
    stat = statOf(path);
    memo?.set(statKey, stat);
  }
  if ('err' in stat) {
    cache.delete(path);
    deps.set(path, fingerprintOfError(stat.err));
    return statError(path, stat.err);
  }
  if (stat.st === undefined) {
    cache.delete(path);
    deps.set(path, MISSING);
    return { ok: false, error: errorData('E_FILE_NOT_FOUND', path), missing: true };
  }
  const { st, fp } = stat;
  deps.set(path, fp);
  const bad = checkStat(path, st, maxBytes);
  if (bad) return bad;
  let entry = cache.get(path);
  if (entry?.fingerprint !== fp) {
    entry = { fingerprint: fp, derived: new Map() };
    cache.delete(path);
    if (cache.size >= MAX_CACHED_PATHS) cache.delete(cache.keys().next().value as string);
    cache.set(path, entry);
  }
  const hit = entry.derived.get(key);
  if (hit) return hit as FileRead<T>;
  const result = derived(path, st, maxBytes, derive);
  entry.derived.set(key, result);
  return result;
}

function derived<T>(path: string, st: BigIntStats, maxBytes: number, derive: (json: unknown) => FileRead<T>): FileRead<T> {
  const bytes = readBytes(path, st, maxBytes);
  if (!bytes.ok) return bytes;
  const json = parseJson(path, bytes.value);
  return json.ok ? derive(json.value) : json;
}
