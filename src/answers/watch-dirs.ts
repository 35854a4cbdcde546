/**
 * The `fs.watch` handles behind the dependency watcher: each followed path
 * (a file, or a database and its `-wal`) is watched through the directory
 * that holds it, or for a missing one through its nearest existing ancestor,
 * never through the file itself: editors and CLIs replace files by rename,
 * which a watch on the old inode would not survive. One watch per directory,
 * shared by every path under it; events for unrelated entries are dropped
 * here, before any stat.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, sep } from 'node:path';
import { absent, watchedFilesOf } from '../probes/fingerprint.js';
import { withItem, withoutItem, type Few } from './few.js';

interface Anchor {
  readonly dir: string;
  /** The entry of `dir` on the way to the path. */
  readonly name: string;
}

export class DirectoryWatches {
  /** Where each followed path is watched from. */
  readonly #anchors = new Map<string, readonly Anchor[]>();
  /** Each watched directory's watch, and the followed paths behind each of its entries (see `few.ts`). */
  readonly #dirs = new Map<string, { watcher: FSWatcher; names: Map<string, Few<string>> }>();
  /**
   * Anchor lists that are their path's own files' directories, all of them watched. A list is never changed in place
   * (a change makes a new one), so one found here is still right.
   */
  readonly #own = new WeakSet<readonly Anchor[]>();

  /**
   * @param onPaths the followed paths an event may have changed.
   * @param onError a watch could not be made or failed (inotify limits): the caller falls back to polling.
   */
  constructor(
    private readonly onPaths: (paths: Iterable<string>) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Watches `path` from where it should be watched now: from its own directory when it exists; when it is absent,
   * from `anchors`, its nearest existing directories as a worker found them (none given: left as it is). True when
   * that moved its watch. Paths whose anchors are still right (nearly all) cost nothing: no watch is closed or made
   * again, and nothing here touches the file system but `fs.watch` itself.
   */
  place(path: string, fingerprint: string, anchors: readonly (readonly [string, string])[] | undefined): boolean {
    const present = !absent(fingerprint);
    const current = this.#anchors.get(path);
    // A present path watched from its own directory already (a store's five providers, each of its checks): nothing to make.
    if (present && current !== undefined && this.#own.has(current)) return false;
    const wanted = present ? watchedFilesOf(path).map((file) => ({ dir: dirname(file), name: basename(file) })) : anchors?.map(([dir, name]) => ({ dir, name }));
    if (wanted === undefined) return false;
    const was = current ?? [];
    const same = wanted.length === was.length && wanted.every((w) => was.some((a) => a.dir === w.dir && a.name === w.name));
    if (!same) {
      this.unanchor(path);
      for (const { dir, name } of wanted) this.#watchEntry(path, dir, name);
    }
    const now = this.#anchors.get(path);
    if (present && now !== undefined && now.length === wanted.length) this.#own.add(now);
    return !same;
  }

  unanchor(path: string): void {
    const anchors = this.#anchors.get(path);
    if (!anchors) return;
    this.#anchors.delete(path);
    for (const anchor of anchors) {
      const watched = this.#dirs.get(anchor.dir);
      const paths = watched?.names.get(anchor.name);
      if (!watched || !paths) continue;
      const left = withoutItem(paths, path);
      if (left) watched.names.set(anchor.name, left);
      else watched.names.delete(anchor.name);
      if (watched.names.size === 0) {
        watched.watcher.close();
        this.#dirs.delete(anchor.dir);
      }
    }
  }

  close(): void {
    for (const { watcher } of this.#dirs.values()) watcher.close();
    this.#dirs.clear();
    this.#anchors.clear();
  }

  #watchEntry(path: string, dir: string, name: string): void {
    const anchors = this.#anchors.get(path) ?? [];
    if (anchors.some((a) => a.dir === dir && a.name === name)) return;
    let watched = this.#dirs.get(dir);
    if (!watched) {
      let watcher: FSWatcher;
      try {
        watcher = watch(dir, { persistent: false }, (_event, filename) => this.#onEvent(dir, filename));
      } catch (err) {
        this.onError(err);
        return;
      }
      watcher.on('error', (err) => this.onError(err));
      this.#dirs.set(dir, (watched = { watcher, names: new Map() }));
    }
    watched.names.set(name, withItem(watched.names.get(name), path));
    this.#anchors.set(path, [...anchors, { dir, name }]);
  }

  #onEvent(dir: string, filename: string | Buffer | null): void {
    const watched = this.#dirs.get(dir);
    if (!watched) return;
    const name = filename === null ? null : (String(filename).split(sep)[0] ?? '');
    if (name === basename(dir)) this.#selfEvent(dir);
    const hit = name === null ? [...watched.names.values()] : [watched.names.get(name)];
    // A name's paths are never empty: one left with none is deleted.
    for (const paths of hit) if (paths) this.onPaths(paths);
  }

  /**
   * An event named for the watched directory itself: it was removed or moved away (a re-login's `rm -rf ~/.codex;
   * mkdir ~/.codex`). The watch follows the old inode and would never hear of the new directory: it is closed, and
   * every path under it is reported, to be anchored again (at the new directory, or an ancestor) once checked.
   */
  #selfEvent(dir: string): void {
    const watched = this.#dirs.get(dir);
    if (!watched) return;
    const paths = new Set<string>();
    for (const set of watched.names.values()) for (const path of set) paths.add(path);
    watched.watcher.close();
    this.#dirs.delete(dir);
    for (const path of paths) {
      const left = (this.#anchors.get(path) ?? []).filter((a) => a.dir !== dir);
      if (left.length > 0) this.#anchors.set(path, left);
      else this.#anchors.delete(path);
    }
    if (paths.size > 0) this.onPaths(paths);
  }
}
