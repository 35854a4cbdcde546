/**
 * Watching the files answers depend on, through their directories (see
 * `watch-dirs.ts`). Events are debounced; then a worker reads each touched
 * path's state (`probes/dep-states.ts`: the main thread stats nothing) and
 * only the answers whose recorded fingerprint differs are reported changed.
 * Where
 * `fs.watch` is not possible (inotify limits, some network file systems) the
 * watcher falls back to checking every fingerprint on an interval, and says
 * so in the logs once.
 *
 * A SQLite store's auth rows are a dependency of their own (see
 * `fingerprint.ts`): events on the database or its `-wal` make them pending,
 * and their fingerprints come from a read in a worker. A write that
 * leaves the auth rows as they were (the gateway's transcripts, its usage
 * state, on every message) costs that one read and changes nothing. An event
 * that did not change the database's files (SQLite, run as root, fchowns the
 * `-wal` on every open: our own reads would wake us again) costs a stat, in
 * the worker.
 */
import { absent, filesSignatureOf, isRowsKey, sameFingerprint } from '../probes/fingerprint.js';
import type { DepState, DepsTask } from '../config/schema.js';
import type { AuthProbeLogger as Logger } from '../logger.js';
import { DirectoryWatches } from './watch-dirs.js';
import { withItem, withoutItem, type Few } from './few.js';
import type { Slices } from '../slices.js';
import { fingerprintIn, type DepList } from './deps.js';

/**
 * Anything whose answer depends on files: path, fingerprint pairs as they were when it was computed (see `deps.ts`). Its
 * list is replaced, never changed in place, and the watcher is told of each new one (`track`, or `moved` when no file
 * was read for it): dependents holding the same list are followed together.
 */
export interface Dependent {
  readonly deps: DepList;
  /**
   * The watcher's own record of the dependent (its group), kept on it: a thousand agents' burst follows thirteen
   * thousand cells, which a map of the watcher's would hold as many entries of, each hashed.
   */
  watched?: unknown;
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
  /** The state of dependencies now, read off this thread (see `probes/dep-states.ts`): in a worker of the pool. */
  readonly read: (task: DepsTask) => Promise<readonly DepState[]>;
  /** Where what was read is taken (with a watch to set for each path whose watch moved): a slice of a turn at a time. */
  readonly slices: Slices;
}

/** Dependencies read in one worker task at most. */
const READ_SLICE = 256;

/**
 * Dependents that were tracked with the same dependency list, followed as one: results that read the same files as they
 * were share their list (see `DepsLists`), so a thousand agents' checks are about a thousand groups, each an agent's
 * cells, not five thousand cells each followed path by path.
 */
class Group<T> {
  /** Its members: each holds `deps` (see `moved`). */
  items: Few<T> = [];
  /** The check its paths were last made pending for (see `#check`): a member tracked before that check adds nothing. */
  pendingFor = -1;

  constructor(
    /** The list its members hold. */
    readonly deps: DepList,
  ) {}
}

export class DependencyWatcher<T extends Dependent> {
  /** Each followed path's groups of dependents (see `few.ts`). */
  readonly #byPath = new Map<string, Few<Group<T>>>();
  /** The groups, by the list their members were tracked with. */
  readonly #groups = new Map<DepList, Group<T>>();
  /** Checks begun: the next one is the one paths made pending now are for. */
  #checks = 0;
  readonly #watches = new DirectoryWatches(
    (paths) => this.#onEvent(paths),
    (err) => this.#fallBack(err),
  );
  readonly #pending = new Set<string>();
  #debounce: NodeJS.Timeout | undefined;
  /** When the debounce timer fires, and when the pending paths are due to be checked (epoch ms). */
  #timerAt = 0;
  #dueAt = 0;
  /** When the oldest unchecked event arrived: a steady stream of events still gets checked every 10 debounce periods. */
  #firstPendingAt: number | undefined;
  #poll: NodeJS.Timeout | undefined;
  #polling: boolean;
  #closed = false;
  #rowChecks = 0;
  /** Rows dependencies: their files' signature when their rows were last read (by a worker's check, see `dep-states.ts`, or by the probe that recorded them). */
  readonly #rowFiles = new Map<string, string>();
  /** Rows dependencies to read whatever their files say: newly followed (see `track`), or at a verify pass. */
  readonly #mustRead = new Set<string>();
  /**
   * Paths newly followed and not watched yet, with their fingerprints: their watches are made by the check that
   * follows (`#flush`), just before it reads them, not as each answer arrives. A sweep's thousand directories are
   * watched after its burst of answers, in slices, rather than in the middle of it (about a tenth of the main
   * thread's CPU in such a burst); a change made before the watch is the check's to find, as one made before `track`
   * always was.
   */
  readonly #unwatched = new Map<string, string>();
  /**
   * Watched paths as the last check found them, until an event may have changed them: a dependent tracked with that
   * fingerprint adds nothing to check, since any change after that check comes as an event. A thousand agents' shared
   * files (the main store, `~/.codex/auth.json`) are then checked once, not again at every burst or refresh that
   * tracks one more dependent of them, with every dependent compared each time.
   */
  readonly #seenAs = new Map<string, string>();

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
   * Starts following a dependent's paths (those it followed before and no longer reads are forgotten), then has them
   * checked once, their watches made first (see `#unwatched`), but those as the last check found them (see `#seenAs`):
   * a change between its probe and now is not missed.
   */
  track(item: T): void {
    const group = this.#regroup(item);
    if (!group) return;
    if (this.#check(group)) this.#schedule();
    this.#startChecking();
  }

  /**
   * The dependent's list changed with no new reading of its files (it was told of a change, see `Cell.observe`): it
   * follows them with that list from now on, and nothing is checked again.
   */
  moved(item: T): void {
    if (item.watched !== undefined) this.#regroup(item);
  }

  /** Puts `item` in the group of its list, if it is not there already; returns that group (undefined: it has no paths). */
  #regroup(item: T): Group<T> | undefined {
    if (this.#closed) return undefined;
    const was = item.watched as Group<T> | undefined;
    if (was?.deps === item.deps) return was;
    // Joined first: a path it reads still is never forgotten on the way (its watch closed and made again).
    const group = item.deps.length > 0 ? this.#join(item) : undefined;
    if (was) this.#leave(item, was);
    item.watched = group;
    return group;
  }

  /** Adds `item` to the group of its list, made (and its paths followed) if it is the first; returns it. */
  #join(item: T): Group<T> {
    let group = this.#groups.get(item.deps);
    if (!group) {
      const made = (group = new Group<T>(item.deps));
      this.#groups.set(item.deps, made);
      for (const [path, fingerprint] of item.deps) {
        const groups = this.#byPath.get(path);
        // An existing file is watched from its directory, at its first check; a missing one from its nearest existing
        // ancestor once that check has found it.
        if (!groups && !this.#polling) this.#unwatched.set(path, fingerprint);
        this.#byPath.set(path, withItem(groups, made));
      }
    }
    group.items = withItem(group.items, item);
    return group;
  }

  /** Takes `item` out of `group`; a group left empty stops following its paths, and a path no group follows is forgotten. */
  #leave(item: T, group: Group<T>): void {
    const left = withoutItem(group.items, item);
    if (left) {
      group.items = left;
      return;
    }
    this.#groups.delete(group.deps);
    for (const [path] of group.deps) {
      const groups = this.#byPath.get(path);
      if (!groups) continue;
      const others = withoutItem(groups, group);
      if (others) this.#byPath.set(path, others);
      else this.#forget(path);
    }
  }

  /**
   * Makes the group's paths pending for the next check (but those as the last check found them, see `#seenAs`), once
   * per check however many of its members are tracked meanwhile. True when one was made pending.
   */
  #check(group: Group<T>): boolean {
    if (group.pendingFor === this.#checks) return false;
    let added = false;
    for (const [path, fingerprint] of group.deps) {
      if (isRowsKey(path)) this.#followRows(path, fingerprint);
      else if (this.#seenAs.get(path) === fingerprint) continue;
      this.#pending.add(path);
      added = true;
    }
    if (added) group.pendingFor = this.#checks;
    return added;
  }

  /**
   * A rows dependency is checked once when followed. Recorded with the signature its files had when its probe read
   * them, its rows are read again only if the files differ now (the worker compares): a sweep of a thousand agents'
   * databases does not open each a second time. Recorded without one (a missing or unreadable database), or when this
   * watcher has read them already, as before: read whatever the files say, or compared with this watcher's last read.
   */
  #followRows(path: string, fingerprint: string): void {
    const signature = filesSignatureOf(fingerprint);
    if (signature === undefined) this.#mustRead.add(path);
    else if (!this.#rowFiles.has(path)) this.#rowFiles.set(path, signature);
  }

  untrack(item: T): void {
    const group = item.watched as Group<T> | undefined;
    if (!group || this.#closed) return;
    item.watched = undefined;
    this.#leave(item, group);
  }

  #forget(path: string): void {
    this.#byPath.delete(path);
    this.#seenAs.delete(path);
    this.#rowFiles.delete(path);
    this.#unwatched.delete(path);
    this.#watches.unanchor(path);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
    this.#watches.close();
    this.#byPath.clear();
    this.#groups.clear();
    this.#pending.clear();
    this.#rowFiles.clear();
    this.#mustRead.clear();
    this.#unwatched.clear();
    this.#seenAs.clear();
  }

  #onEvent(paths: Iterable<string>): void {
    for (const path of paths) {
      this.#pending.add(path);
      this.#seenAs.delete(path);
    }
    if (this.#pending.size > 0) this.#schedule();
  }

  /** Pending paths are checked once `debounceMs` has passed without an event, or 10 debounce periods after the first. */
  #schedule(): void {
    if (this.#closed) return;
    const now = Date.now();
    this.#firstPendingAt ??= now;
    this.#dueAt = Math.min(now + this.options.debounceMs, this.#firstPendingAt + 10 * this.options.debounceMs);
    // One timer per quiet period, which an event moves on rather than makes again: a sweep tracks thousands of
    // answers in a burst, each an event.
    if (this.#debounce === undefined || this.#dueAt < this.#timerAt) this.#arm(this.#dueAt - now);
  }

  /**
   * `wait` may be past already: a dependent tracked while a check that began late (its loop held past ten debounce
   * periods) makes its watches finds the oldest pending event older than that. It is due now, not at a negative delay
   * (which Node 24 warns of, on the gateway's stderr).
   */
  #arm(wait: number): void {
    clearTimeout(this.#debounce);
    const delay = Math.max(0, wait);
    this.#timerAt = Date.now() + delay;
    this.#debounce = setTimeout(() => this.#debounced(), delay).unref();
  }

  #debounced(): void {
    this.#debounce = undefined;
    const left = this.#dueAt - Date.now();
    if (left > 0) return this.#arm(left);
    void this.#flush();
  }

  /**
   * Has a worker read every pending path's state (a task per 256 paths: a verify pass over thousands of agents'
   * files is a few messages) and reports the dependents whose fingerprint differs.
   */
  async #flush(): Promise<void> {
    await this.#watchNew();
    if (this.#closed) return;
    const pending = [...this.#pending];
    this.#pending.clear();
    this.#checks++;
    this.#firstPendingAt = undefined;
    const changed: FileChange<T>[] = [];
    for (let i = 0; i < pending.length; i += READ_SLICE) {
      const deps = pending.slice(i, i + READ_SLICE).filter((key) => this.#byPath.has(key));
      if (deps.length === 0) continue;
      // A rows dependency is read when its files changed since its last read, or whatever they say (null) when it must be.
      const signatures = deps.map((key) => (this.#mustRead.delete(key) ? null : (this.#rowFiles.get(key) ?? null)));
      let states: readonly DepState[];
      try {
        states = await this.options.read({ deps, signatures });
      } catch {
        // No worker could read them now (the pool closing): they stay pending for the next check.
        if (this.#closed) return;
        for (const [j, key] of deps.entries()) {
          this.#pending.add(key);
          if (signatures[j] === null && isRowsKey(key)) this.#mustRead.add(key);
        }
        this.#schedule();
        continue;
      }
      if (this.#closed) return;
      await this.options.slices.forEach(deps, (key, j) => {
        if (!this.#closed) this.#seen(key, states[j], changed);
      });
    }
    if (this.#closed) return;
    if (changed.length > 0) this.onChanged(changed);
  }

  /** Makes the watches of the paths followed since the last check (see `#unwatched`), a slice of a turn at a time. */
  async #watchNew(): Promise<void> {
    if (this.#unwatched.size === 0) return;
    const paths = [...this.#unwatched];
    this.#unwatched.clear();
    await this.options.slices.forEach(paths, ([path, fingerprint]) => {
      // Forgotten since, or no longer watching (a fallback to polling).
      if (!this.#closed && !this.#polling && this.#byPath.has(path)) this.#watches.place(path, fingerprint, undefined);
    });
  }

  /** What a worker read of a followed path: its dependents whose fingerprint differs go to `changed`. */
  #seen(key: string, state: DepState | undefined, changed: FileChange<T>[]): void {
    const items = this.#byPath.get(key);
    // Not followed any more, or not read.
    if (!items || !state) return;
    if (state.signature !== undefined) this.#rowFiles.set(key, state.signature);
    const { fingerprint } = state;
    // A rows dependency whose files were as they were: its rows were not read.
    if (fingerprint === undefined) return;
    if (isRowsKey(key)) this.#rowChecks++;
    // Every member of a group holds its list (see `moved`): one comparison a group, and a group whose files are as they
    // were costs no more (the gateway's shared store, rewritten on every request, is followed by every agent).
    for (const group of items) {
      if (sameFingerprint(fingerprintIn(group.deps, key), fingerprint)) continue;
      for (const item of group.items) changed.push({ item, path: key, fingerprint });
    }
    // A directory on the way may have appeared or gone. A path now watched from elsewhere is read once more, so a
    // change made while its new watch was being set up is not missed.
    if (this.#polling) return;
    if (this.#watches.place(key, fingerprint, state.anchors)) {
      this.#seenAs.delete(key);
      this.#pending.add(key);
      this.#schedule();
    } else if (!isRowsKey(key) && !this.#pending.has(key) && (state.anchors !== undefined || !absent(fingerprint))) {
      // Watched where it should be (a missing path read without its anchors is left as it was, maybe unwatched), and no
      // event since its read: as it was found until an event says otherwise.
      this.#seenAs.set(key, fingerprint);
    }
  }

  #fallBack(err: unknown): void {
    if (this.#polling) return;
    this.#polling = true;
    this.options.logger.warn(
      { code: (err as NodeJS.ErrnoException).code ?? 'unknown', pollMs: this.options.pollMs },
      'cannot watch credential files; checking their fingerprints on an interval instead',
    );
    this.#watches.close();
    this.#unwatched.clear();
    this.#seenAs.clear();
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
        if (isRowsKey(path)) this.#mustRead.add(path);
      }
      if (this.#pending.size > 0) void this.#flush();
    }, every).unref();
  }
}
