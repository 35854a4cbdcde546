import { fileURLToPath } from 'node:url';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { useFixture } from './helpers/fixture.js';
import { eventually } from './helpers/processes.js';
import type { DepList } from '../src/answers/deps.js';

// The watcher is internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { DependencyWatcher } = (await import(dist('answers/watcher.js'))) as typeof import('../src/answers/watcher.js');
const { fileFingerprint, readDependencies } = (await import(dist('probes/dep-states.js'))) as typeof import('../src/probes/dep-states.js');
const { Slices } = (await import(dist('slices.js'))) as typeof import('../src/slices.js');
const slices = new Slices((err) => {
  throw err;
});
// What the pool's worker reads for the watcher, read here on the test's own thread.
const read = async (task: Parameters<typeof readDependencies>[0]) => readDependencies(task, { maxChars: 1 << 20, digestKey: 'test' });

describe('the dependency watcher', () => {
  const { dir } = useFixture();
  const logger = pino({ level: 'silent' });

  it('still notices a change whose event never leads to a check, through its periodic fingerprint check', async () => {
    const file = dir.write('a/auth.json', '{"v":1}');
    const changed: unknown[] = [];
    // A debounce of ten minutes: file events alone would not be checked within this test.
    const watcher = new DependencyWatcher({ enabled: true, debounceMs: 600_000, pollMs: 2000, verifyMs: 50, logger, read, slices }, (items) => changed.push(...items));
    try {
      const item = { deps: list([file, fileFingerprint(file)]) };
      watcher.track(item);
      expect(watcher.mode).toBe('watch');
      writeFileSync(file, '{"v":22}');
      // At least once: nobody tells the watcher of what it reported (the book would, see `asTheBookDoes`), so every
      // later check reports it again, and two may come between two looks.
      expect(await eventually(() => changed.length >= 1)).toBe(true);
      expect(changed[0]).toMatchObject({ item, path: file, fingerprint: fileFingerprint(file) });
      expect(watcher.size).toBe(1); // still followed: its owner re-tracks it with what the re-run read
    } finally {
      watcher.close();
    }
  });

  it('reports nothing while fingerprints stay the same, and nothing after close()', async () => {
    const file = dir.write('b/auth.json', '{"v":1}');
    const changed: unknown[] = [];
    const watcher = new DependencyWatcher({ enabled: true, debounceMs: 10, pollMs: 2000, verifyMs: 20, logger, read, slices }, (items) => changed.push(...items));
    watcher.track({ deps: list([file, fileFingerprint(file)]) });
    await new Promise((r) => setTimeout(r, 150)); // several verifications
    expect(changed).toEqual([]);
    watcher.close();
    writeFileSync(file, '{"v":333}');
    await new Promise((r) => setTimeout(r, 150));
    expect(changed).toEqual([]);
  });

  it('reads a missing file once more once its watch is set: a file made while the watch was being set up is not missed', async () => {
    mkdirSync(dir.path('late'));
    const file = dir.path('late/sub/auth.json');
    const changed: unknown[] = [];
    const reads: string[][] = [];
    // The worker's read finds `late` to watch `sub/auth.json` from; the login lands just after that read, before the
    // watch on `late` exists: no event will ever tell of it.
    const racing = async (task: Parameters<typeof readDependencies>[0]) => {
      const states = await read(task);
      reads.push([...task.deps]);
      if (reads.length === 1) {
        expect(states[0]).toMatchObject({ fingerprint: 'missing', anchors: [[dir.path('late'), 'sub']] });
        dir.write('late/sub/auth.json', '{"v":1}');
      }
      return states;
    };
    // No verify pass: only the read after the watch was placed can see it.
    const watcher = new DependencyWatcher({ enabled: true, debounceMs: 10, pollMs: 2000, verifyMs: 0, logger, read: racing, slices }, (items) => changed.push(...items));
    try {
      const item = { deps: list([file, 'missing']) };
      watcher.track(item);
      // At least once: its watch moves again once the file is there, and that check, reading it once more, reports it
      // again to a dependent nobody updates.
      expect(await eventually(() => changed.length >= 1)).toBe(true);
      expect(changed[0]).toMatchObject({ item, path: file, fingerprint: fileFingerprint(file) });
      expect(reads.slice(0, 2)).toEqual([[file], [file]]);
    } finally {
      watcher.close();
    }
  });

  it("makes a new path's watch at its first check, just before reading it: a change made before the watch is that check's to find", async () => {
    const file = dir.write('first-check/auth.json', '{"v":1}');
    const changed: unknown[] = [];
    const watchesAtRead: number[] = [];
    const reading = async (task: Parameters<typeof readDependencies>[0]) => {
      watchesAtRead.push(inotifyWatches());
      return read(task);
    };
    const before = inotifyWatches();
    const watcher = new DependencyWatcher({ enabled: true, debounceMs: 10, pollMs: 2000, verifyMs: 0, logger, read: reading, slices }, (items) => changed.push(...items));
    try {
      const item = { deps: list([file, fileFingerprint(file)]) };
      watcher.track(item);
      // Following it made no watch: a burst's answers are not held up by a thousand of them.
      expect(inotifyWatches()).toBe(before);
      // Written while nothing watches it: no event will ever tell of it.
      writeFileSync(file, '{"v":22}');
      expect(await eventually(() => changed.length === 1)).toBe(true);
      expect(changed[0]).toMatchObject({ item, path: file, fingerprint: fileFingerprint(file) });
      // The check read it with its directory's watch already made, and that watch tells of the next change.
      expect(watchesAtRead[0]).toBe(before + 1);
      item.deps = list([file, fileFingerprint(file)]);
      watcher.moved(item);
      writeFileSync(file, '{"v":333}');
      // Once, or more if its events came apart into two checks.
      expect(await eventually(() => changed.length >= 2)).toBe(true);
      expect(changed[1]).toMatchObject({ item, path: file, fingerprint: fileFingerprint(file) });
      // Read again on that event, with no new watch.
      expect(watchesAtRead.slice(1).length).toBeGreaterThan(0);
      for (const n of watchesAtRead.slice(1)) expect(n).toBe(before + 1);
    } finally {
      watcher.close();
    }
    expect(inotifyWatches()).toBe(before);
  });

  it('follows dependents that hold the same map together: a change reports each still followed, and the path is let go with the last', async () => {
    const file = dir.write('shared/auth.json', '{"v":1}');
    const changed: { item: unknown }[] = [];
    const before = inotifyWatches();
    const watcher = new DependencyWatcher({ enabled: true, debounceMs: 10, pollMs: 2000, verifyMs: 0, logger, read, slices }, (items) => changed.push(...items));
    try {
      // An agent's providers read the same store as it was: their cells share one map.
      const deps = list([file, fileFingerprint(file)]);
      const [a, b, c] = [{ deps }, { deps }, { deps }];
      for (const item of [a, b, c]) watcher.track(item);
      expect(await eventually(() => inotifyWatches() === before + 1)).toBe(true);
      watcher.untrack(b);
      writeFileSync(file, '{"v":22}');
      // Each of the two at least once (twice if the write's events came apart into two checks).
      expect(await eventually(() => changed.length >= 2)).toBe(true);
      expect(new Set(changed.map((change) => change.item))).toEqual(new Set([a, c]));
      watcher.untrack(a);
      expect(watcher.size).toBe(1);
      watcher.untrack(c);
      expect(watcher.size).toBe(0);
      expect(inotifyWatches()).toBe(before);
    } finally {
      watcher.close();
    }
  });

  it('compares a dependent moved to the map it was told of with that map: the change it was told of is not reported again, the next one is', async () => {
    const file = dir.write('moved/auth.json', '{"v":1}');
    const deps = list([file, fileFingerprint(file)]);
    const a = { deps };
    const b = { deps };
    const changed: Change[] = [];
    // A verify pass every 20 ms: the file is read again and again while it stays as it is.
    const watcher: Watcher = new DependencyWatcher(
      { enabled: true, debounceMs: 10, pollMs: 2000, verifyMs: 20, logger, read, slices },
      asTheBookDoes(a, changed, () => watcher),
    );
    try {
      watcher.track(a);
      watcher.track(b);
      writeFileSync(file, '{"v":22}');
      expect(await eventually(() => changed.length === 2)).toBe(true);
      await new Promise((r) => setTimeout(r, 150)); // several verify passes of the file as it is
      expect(changed.length).toBe(2);
      writeFileSync(file, '{"v":333}');
      expect(await eventually(() => changed.length === 3)).toBe(true);
      expect(changed[2]).toMatchObject({ item: a, fingerprint: fileFingerprint(file) });
    } finally {
      watcher.close();
    }
  });

  it('checks nothing for a dependent tracked with what the last check found, and checks one tracked with an older reading', async () => {
    const file = dir.write('seen/auth.json', '{"v":1}');
    const first = fileFingerprint(file);
    let reads = 0;
    const counting = async (task: Parameters<typeof readDependencies>[0]) => {
      reads++;
      return read(task);
    };
    const a = { deps: list([file, first]) };
    const changed: Change[] = [];
    const watcher: Watcher = new DependencyWatcher(
      { enabled: true, debounceMs: 10, pollMs: 2000, verifyMs: 0, logger, read: counting, slices },
      asTheBookDoes(a, changed, () => watcher),
    );
    try {
      watcher.track(a);
      expect(await eventually(() => reads === 1)).toBe(true);
      // Another agent's answer that read the same file as it is: its watch is in place, so a change would come as an event.
      const b = { deps: list([file, first]) };
      watcher.track(b);
      await new Promise((r) => setTimeout(r, 100));
      expect(reads).toBe(1);
      writeFileSync(file, '{"v":22}');
      expect(await eventually(() => changed.length === 2)).toBe(true);
      // An answer whose probe read the file before that change, tracked after its check: no event will tell of it.
      const c = { deps: list([file, first]) };
      watcher.track(c);
      expect(await eventually(() => changed.length === 3)).toBe(true);
      expect(changed[2]).toMatchObject({ item: c, path: file });
      expect(reads).toBe(3);
    } finally {
      watcher.close();
    }
  });

  it('checks a burst of dependents once the burst is quiet, and events that never stop within ten debounce periods', async () => {
    const files = Array.from({ length: 25 }, (_, i) => dir.write(`burst/${i}.json`, '{"v":1}'));
    const reads: { at: number; paths: number }[] = [];
    const counting = async (task: Parameters<typeof readDependencies>[0]) => {
      reads.push({ at: Date.now(), paths: task.deps.length });
      return read(task);
    };
    const debounceMs = 100;
    const changed: unknown[] = [];
    const watcher = new DependencyWatcher({ enabled: true, debounceMs, pollMs: 2000, verifyMs: 0, logger, read: counting, slices }, (items) => changed.push(...items));
    try {
      const started = Date.now();
      // One dependent per file, 5 ms apart (longer than a debounce period in all): each puts the check off.
      for (const file of files) {
        watcher.track({ deps: list([file, fileFingerprint(file)]) });
        await new Promise((r) => setTimeout(r, 5));
      }
      const quietFrom = Date.now();
      expect(await eventually(() => reads.reduce((n, r) => n + r.paths, 0) === files.length)).toBe(true);
      for (const r of reads) expect(r.at).toBeGreaterThanOrEqual(Math.min(quietFrom, started + 10 * debounceMs));
      // A file written every few milliseconds for longer than ten debounce periods: checked before the writes stop.
      const file = files[0] as string;
      let writes = 0;
      const writer = setInterval(() => writeFileSync(file, JSON.stringify({ v: ++writes })), 5);
      try {
        expect(await eventually(() => changed.length > 0)).toBe(true);
        expect(changed[0]).toMatchObject({ path: file });
      } finally {
        clearInterval(writer);
      }
    } finally {
      watcher.close();
    }
  });

  it('sets no timer in the past for a dependent tracked while a late check makes its watches, and checks it', async () => {
    // Node 24 warns of a negative delay on the gateway's stderr (TimeoutNegativeWarning); earlier Nodes take it as 1 ms.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const slice = new Slices((err) => {
      throw err;
    }, 1);
    const debounceMs = 10;
    const [first, second] = [dir.write('late/a.json', '{"v":1}'), dir.write('late/b.json', '{"v":1}')];
    const checked: string[] = [];
    const reading = async (task: Parameters<typeof readDependencies>[0]) => {
      checked.push(...task.deps);
      return read(task);
    };
    const watcher = new DependencyWatcher({ enabled: true, debounceMs, pollMs: 2000, verifyMs: 0, logger, read: reading, slices: slice }, () => {});
    try {
      // Three timers of the same delay fire in the order they were set, in one turn: the first spends that turn's
      // slice, so the check the watcher's timer (the second) begins makes its watches in a later turn; the third
      // tracks a dependent meanwhile.
      setTimeout(() => slice.run(() => busy(3)), debounceMs);
      watcher.track({ deps: list([first, fileFingerprint(first)]) });
      const tracked = new Promise<void>((resolve) =>
        setTimeout(() => {
          watcher.track({ deps: list([second, fileFingerprint(second)]) });
          resolve();
        }, debounceMs),
      );
      // The loop held past ten debounce periods since the first was tracked (a gateway's busy turn).
      busy(12 * debounceMs);
      await tracked;
      expect(await eventually(() => checked.includes(second))).toBe(true);
      expect(checked).toContain(first);
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain('TimeoutNegativeWarning');
    } finally {
      watcher.close();
      process.off('warning', onWarning);
    }
  });
});

interface Dependent {
  deps: DepList;
}

/** Holds the thread for `ms` milliseconds. */
function busy(ms: number): void {
  const from = performance.now();
  while (performance.now() - from < ms) {
    // held
  }
}

/** A dependency list as a result gives it (see `answers/deps.ts`). */
function list(...pairs: [string, string][]): DepList {
  return pairs;
}
type Change = { item: Dependent; path: string; fingerprint: string };
type Watcher = InstanceType<typeof DependencyWatcher<Dependent>>;

/**
 * What the answer book does with the changes a watcher reports (`AnswerBook.filesChanged`): `keeper`, standing for the
 * cell that decides its answer, keeps its place with what was seen (a new list, as `Cell.observe` makes); every other
 * dependent is let go. Each change goes to `changed`.
 */
function asTheBookDoes(keeper: Dependent, changed: Change[], watcher: () => Watcher) {
  return (items: Change[]) => {
    for (const change of items) {
      changed.push(change);
      if (change.item === keeper) {
        keeper.deps = list([change.path, change.fingerprint]);
        watcher().moved(keeper);
      } else watcher().untrack(change.item);
    }
  };
}

/** The inotify watches this process holds (libuv's `fs.watch` on Linux): counted from each inotify descriptor's fdinfo. */
function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed since it was listed (the listing's own descriptor)
    }
    if (target !== 'anon_inode:inotify') continue;
    n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('inotify wd:')).length;
  }
  return n;
}

describe('a rows dependency as its probe records it', () => {
  it('carries its files signature, which the digest comparison leaves out', async () => {
    const { withFilesSignature, filesSignatureOf, sameFingerprint } = (await import(dist('probes/fingerprint.js'))) as typeof import('../src/probes/fingerprint.js');
    const recorded = withFilesSignature('rows:0a1b', '2049:11:4096:1700000000000000000|missing');
    expect(filesSignatureOf(recorded)).toBe('2049:11:4096:1700000000000000000|missing');
    expect(sameFingerprint(recorded, 'rows:0a1b')).toBe(true);
    expect(sameFingerprint(recorded, 'rows:ffff')).toBe(false);
    // Only a rows digest carries one: a missing database, or a file's fingerprint, stays as it is.
    expect(withFilesSignature('missing', 'x')).toBe('missing');
    expect(filesSignatureOf('2049:11:4096:1:1')).toBeUndefined();
    expect(sameFingerprint('2049:11:4096:1:1', '2049:11:4096:1:2')).toBe(false);
  });

  it('is told from a file path by its key alone', async () => {
    const { isRowsKey, parseRowsKey, rowsKey } = (await import(dist('probes/fingerprint.js'))) as typeof import('../src/probes/fingerprint.js');
    const key = rowsKey('agent', '/state/agents/a/agent/openclaw-agent.sqlite');
    expect(isRowsKey(key)).toBe(true);
    expect(parseRowsKey(key)).toEqual({ role: 'agent', dbPath: '/state/agents/a/agent/openclaw-agent.sqlite' });
    for (const other of ['/home/u/.codex/auth.json', 'sqlite:other:/x.sqlite', 'sqlite:agent:', 'relative/sqlite:agent:/x']) {
      expect(isRowsKey(other)).toBe(false);
      expect(parseRowsKey(other)).toBeUndefined();
    }
  });
});
