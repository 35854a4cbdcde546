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
import { stat } from 'node:fs/promises';
import { basename, dirname, sep } from 'node:path';
import { MISSING, watchedFilesOf } from '../probes/fingerprint.js';

interface Anchor {
  readonly dir: string;
  /** The entry of `dir` on the way to the path. */
  readonly name: string;
}

/** A fingerprint that says the path is not there (or could not be stat'ed): watched from an ancestor. */
export const absent = (fingerprint: string | undefined): boolean => fingerprint === undefined || fingerprint === MISSING || fingerprint.startsWith('error:');

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export class DirectoryWatches {
  /** Where each followed path is watched from. */
  readonly #anchors = new Map<string, readonly Anchor[]>();
  readonly #dirs = new Map<string, { watcher: FSWatcher; names: Map<string, Set<string>> }>();

  /**
   * @param onPaths the followed paths an event may have changed.
   * @param onError a watch could not be made or failed (inotify limits): the caller falls back to polling.
   */
  constructor(
    private readonly onPaths: (paths: Iterable<string>) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Watches each file of `path`, which exists, from its directory (one that is missing: see `reanchor`). */
  anchor(path: string): void {
    for (const file of watchedFilesOf(path)) this.#watchEntry(path, dirname(file), basename(file));
  }

  /**
   * After a check: a path watched from an ancestor that now exists closer to it, or one whose watched directory is
   * gone, is watched from its new nearest ancestor. Paths whose anchors are still right (nearly all, and every
   * existing file watched through its own directory) cost nothing: no watch is closed or made again.
   */
  async reanchor(path: string, fingerprint: string, stillFollowed: () => boolean): Promise<void> {
    const anchors = this.#anchors.get(path) ?? [];
    const files = watchedFilesOf(path);
    const exists = !absent(fingerprint);
    const at = (dir: string, name: string) => anchors.some((a) => a.dir === dir && a.name === name);
    if (exists && files.every((file) => at(dirname(file), basename(file)))) return;
    const wanted: Anchor[] = [];
    for (const file of files) {
      let dir = dirname(file);
      let name = basename(file);
      if (!exists) {
        while (!(await isDirectory(dir)) && dirname(dir) !== dir) {
          name = basename(dir);
          dir = dirname(dir);
        }
      }
      wanted.push({ dir, name });
    }
    if (!stillFollowed() || wanted.every((w) => at(w.dir, w.name))) return;
    this.unanchor(path);
    for (const { dir, name } of wanted) this.#watchEntry(path, dir, name);
  }

  unanchor(path: string): void {
    const anchors = this.#anchors.get(path);
    if (!anchors) return;
    this.#anchors.delete(path);
    for (const anchor of anchors) {
      const watched = this.#dirs.get(anchor.dir);
      const paths = watched?.names.get(anchor.name);
      if (!watched || !paths) continue;
      paths.delete(path);
      if (paths.size === 0) watched.names.delete(anchor.name);
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
    let paths = watched.names.get(name);
    if (!paths) watched.names.set(name, (paths = new Set()));
    paths.add(path);
    this.#anchors.set(path, [...anchors, { dir, name }]);
  }

  #onEvent(dir: string, filename: string | Buffer | null): void {
    const watched = this.#dirs.get(dir);
    if (!watched) return;
    const name = filename === null ? null : (String(filename).split(sep)[0] ?? '');
    if (name === basename(dir)) this.#selfEvent(dir);
    const hit = name === null ? [...watched.names.values()] : [watched.names.get(name)];
    for (const paths of hit) if (paths && paths.size > 0) this.onPaths(paths);
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
