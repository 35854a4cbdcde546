/**
 * Watching the files answers depend on, through their directories (see
 * `watch-dirs.ts`). Events are debounced; then each touched path is stat'ed
 * (asynchronously) and only the answers whose recorded fingerprint differs
 * are reported changed. Where
 * `fs.watch` is not possible (inotify limits, some network file systems) the
 * watcher falls back to checking every fingerprint on an interval, and says
 * so in the logs once.
 *
 * A SQLite store's auth rows are a dependency of their own (see
 * `fingerprint.ts`): events on the database or its `-wal` make them pending,
 * and their fingerprints come from `rows`, a read in a worker. A write that
 * leaves the auth rows as they were (the gateway's transcripts, its usage
 * state, on every message) costs that one read and changes nothing. An event
 * that did not change the database's files (SQLite, run as root, fchowns the
 * `-wal` on every open: our own reads would wake us again) costs a stat.
 */
import { stat } from 'node:fs/promises';
import { setImmediate as turn } from 'node:timers/promises';
import { currentFingerprint, fingerprintOfError, MISSING, parseRowsKey, watchedFilesOf } from '../probes/fingerprint.js';
import type { AuthProbeLogger as Logger } from '../logger.js';
import { absent, DirectoryWatches } from './watch-dirs.js';

/** Anything whose answer depends on files: path → fingerprint when it was computed. */
export interface Dependent {
  readonly deps: ReadonlyMap<string, string>;
}

/** A followed path whose fingerprint differs from the one a dependent recorded. */
export interface FileChange<T> {
  readonly item: T;
  readonly path: string;
  /** The fingerprint seen now. */
  readonly fingerprint: string;
}

export interface WatchOptions {
  /** False: no `fs.watch`, only fingerprint checks every `pollMs`. */
  readonly enabled: boolean;
  /** Quiet time after the last event before paths are checked, in milliseconds. */
  readonly debounceMs: number;
  /** Interval of the fingerprint checks when not watching, in milliseconds. */
  readonly pollMs: number;
  /**
   * Interval of a full fingerprint check even while watching, in milliseconds (0: none): a safety net for
   * events that never come (network file systems, an overflowed inotify queue).
   */
  readonly verifyMs: number;
  readonly logger: Logger;
  /** The current fingerprints of SQLite rows dependencies, read off this thread; without it they are not checked. */
  readonly rows?: (keys: readonly string[]) => Promise<readonly string[]>;
}

/** Rows dependencies verified in one read task at most. */
const ROWS_SLICE = 256;

/**
 * What the files of a rows dependency look like: device, inode, size and mtime of the database and its `-wal`.
 * Not ctime: an fchown or chmod changes that, never the rows.
 */
async function filesSignature(key: string): Promise<string> {
  const parts = await Promise.all(
    watchedFilesOf(key).map(async (file) => {
      try {
        const st = await stat(file, { bigint: true });
        return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
      } catch (err) {
        return fingerprintOfError(err);
      }
    }),
  );
  return parts.join('|');
}

/** Paths stat'ed at once in a check; the event loop gets a turn between slices. */
const FLUSH_SLICE = 64;

export class DependencyWatcher<T extends Dependent> {
  readonly #byPath = new Map<string, Set<T>>();
  readonly #watches = new DirectoryWatches(
    (paths) => this.#onEvent(paths),
    (err) => this.#fallBack(err),
  );
  readonly #pending = new Set<string>();
  #debounce: NodeJS.Timeout | undefined;
  /** When the oldest unchecked event arrived: a steady stream of events still gets checked every 10 debounce periods. */
  #firstPendingAt: number | undefined;
  #poll: NodeJS.Timeout | undefined;
  #polling: boolean;
  #closed = false;
  #rowChecks = 0;
  /** Rows dependencies: their files' signature when their rows were last read. */
  readonly #rowFiles = new Map<string, string>();
  /** Rows dependencies to read whatever their files say: newly followed (see `track`), or at a verify pass. */
  readonly #mustRead = new Set<string>();

  constructor(
    private readonly options: WatchOptions,
    private readonly onChanged: (changes: FileChange<T>[]) => void,
  ) {
    this.#polling = !options.enabled;
  }

  /** Paths being watched or polled. */
  get size(): number {
    return this.#byPath.size;
  }

  /** SQLite rows dependencies read by a worker to be checked. */
  get rowChecks(): number {
    return this.#rowChecks;
  }

  get mode(): 'watch' | 'poll' {
    return this.#polling ? 'poll' : 'watch';
  }

  /**
   * Starts following a dependent's paths (or, given the paths it followed before, only the difference), then
   * checks them once: a change between its probe and now is not missed.
   */
  track(item: T, previous?: ReadonlyMap<string, string>): void {
    if (this.#closed) return;
    if (previous) for (const path of previous.keys()) if (!item.deps.has(path)) this.#forget(item, path);
    for (const [path, fingerprint] of item.deps) {
      let set = this.#byPath.get(path);
      if (!set) {
        this.#byPath.set(path, (set = new Set()));
        this.#anchor(path, fingerprint);
      }
      set.add(item);
      this.#pending.add(path);
      if (this.options.rows && parseRowsKey(path)) this.#mustRead.add(path);
    }
    if (item.deps.size === 0) return;
    this.#schedule();
    this.#startChecking();
  }

  untrack(item: T): void {
    for (const path of item.deps.keys()) this.#forget(item, path);
  }

  #forget(item: T, path: string): void {
    const set = this.#byPath.get(path);
    if (!set?.delete(item) || set.size > 0) return;
    this.#byPath.delete(path);
    this.#rowFiles.delete(path);
    this.#watches.unanchor(path);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
    this.#watches.close();
    this.#byPath.clear();
    this.#pending.clear();
    this.#rowFiles.clear();
    this.#mustRead.clear();
  }

  #anchor(path: string, fingerprint?: string): void {
    if (this.#polling) return;
    if (!absent(fingerprint)) return this.#watches.anchor(path);
    // A missing file is watched from its nearest existing ancestor, found off the loop (a stat per level, in the
    // thread pool), then checked once more: a file made while the watch was being set up is not missed.
    void this.#reanchor(path, fingerprint ?? MISSING).then(() => {
      if (!this.#byPath.has(path) || this.#closed) return;
      this.#pending.add(path);
      this.#schedule();
    });
  }

  async #reanchor(path: string, fingerprint: string): Promise<void> {
    if (this.#polling || !this.#byPath.has(path)) return;
    await this.#watches.reanchor(path, fingerprint, () => !this.#closed && !this.#polling && this.#byPath.has(path));
  }

  #onEvent(paths: Iterable<string>): void {
    for (const path of paths) this.#pending.add(path);
    if (this.#pending.size > 0) this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    const now = Date.now();
    this.#firstPendingAt ??= now;
    const wait = Math.min(this.options.debounceMs, Math.max(0, this.#firstPendingAt + 10 * this.options.debounceMs - now));
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.#flush(), wait).unref();
  }

  /**
   * Stats every pending path, has a worker read every pending SQLite rows dependency, and reports the dependents
   * whose fingerprint differs. Paths are checked in slices with a turn of the event loop between them, so a verify
   * pass over thousands of agents' files never holds the loop for long.
   */
  async #flush(): Promise<void> {
    const pending = [...this.#pending];
    this.#pending.clear();
    this.#firstPendingAt = undefined;
    const rows = this.options.rows ? pending.filter((path) => parseRowsKey(path) !== undefined) : [];
    const paths = rows.length === 0 ? pending : pending.filter((path) => parseRowsKey(path) === undefined);
    const changed: FileChange<T>[] = [];
    const seen = async (path: string, fingerprint: string) => {
      for (const item of this.#byPath.get(path) ?? []) if (item.deps.get(path) !== fingerprint) changed.push({ item, path, fingerprint });
      // A directory on the way may have appeared or gone.
      await this.#reanchor(path, fingerprint);
    };
    for (let i = 0; i < paths.length; i += FLUSH_SLICE) {
      if (i > 0) await turn();
      if (this.#closed) return;
      await Promise.all(paths.slice(i, i + FLUSH_SLICE).map(async (path) => seen(path, await currentFingerprint(path))));
    }
    const toRead = await this.#rowsToRead(rows);
    for (let i = 0; i < toRead.length && this.options.rows; i += ROWS_SLICE) {
      const keys = toRead.slice(i, i + ROWS_SLICE);
      let fingerprints: readonly string[];
      try {
        fingerprints = await this.options.rows(keys);
      } catch {
        // No worker could read them now (the pool closing, its queue full): they stay pending for the next check.
        if (this.#closed) return;
        for (const key of keys) {
          this.#pending.add(key);
          this.#mustRead.add(key);
        }
        this.#schedule();
        continue;
      }
      if (this.#closed) return;
      this.#rowChecks += keys.length;
      await Promise.all(keys.map(async (key, j) => seen(key, fingerprints[j] ?? 'error:unread')));
    }
    if (this.#closed) return;
    if (changed.length > 0) this.onChanged(changed);
  }

  /**
   * The rows dependencies a worker must read: those whose database or `-wal` changed (a stat each, in slices), and
   * those to be read whatever their files say. Their files' signature is taken before the read, so a write during it
   * is seen at the next event.
   */
  async #rowsToRead(keys: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < keys.length; i += FLUSH_SLICE) {
      if (i > 0) await turn();
      await Promise.all(
        keys.slice(i, i + FLUSH_SLICE).map(async (key) => {
          const must = this.#mustRead.delete(key);
          if (!this.#byPath.has(key)) return;
          const signature = await filesSignature(key);
          if (!must && this.#rowFiles.get(key) === signature) return;
          this.#rowFiles.set(key, signature);
          out.push(key);
        }),
      );
    }
    return out;
  }

  #fallBack(err: unknown): void {
    if (this.#polling) return;
    this.#polling = true;
    this.options.logger.warn(
      { code: (err as NodeJS.ErrnoException).code ?? 'unknown', pollMs: this.options.pollMs },
      'cannot watch credential files; checking their fingerprints on an interval instead',
    );
    this.#watches.close();
    clearInterval(this.#poll);
    this.#poll = undefined;
    this.#startChecking();
  }

  /** Checks every fingerprint on an interval: `pollMs` when not watching, `verifyMs` as a safety net when watching. */
  #startChecking(): void {
    const every = this.#polling ? this.options.pollMs : this.options.verifyMs;
    if (this.#poll || this.#closed || every <= 0) return;
    this.#poll = setInterval(() => {
      for (const path of this.#byPath.keys()) {
        this.#pending.add(path);
        if (this.options.rows && parseRowsKey(path)) this.#mustRead.add(path);
      }
      if (this.#pending.size > 0) void this.#flush();
    }, every).unref();
  }
}
