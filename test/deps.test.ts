/**
 * A cell's dependency list (`answers/deps.ts`): the result's path, fingerprint pairs, shared and never changed in
 * place; and what `Cell` decides with it: whether a run's reading may decide the cell though its files changed since
 * the run began (`current`), and what a change it was told of leaves it holding (`observe`).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { fingerprintIn, withFingerprint, NO_DEPS } = (await import(dist('answers/deps.js'))) as typeof import('../src/answers/deps.js');
const { Cell } = (await import(dist('answers/cell.js'))) as typeof import('../src/answers/cell.js');
type DepList = import('../src/answers/deps.js').DepList;
type ProbeOutcome = import('../src/config/schema.js').ProbeOutcome;

const life = { positiveTtlMs: 60_000, negativeTtlMs: 10_000, backoff: { initialMs: 100, maxMs: 1000 } };
const outcome = (deps: DepList): ProbeOutcome => ({ position: 0, index: 0, source: 'provider', kind: 'authProfiles', outcome: 'present', durationMs: 1, deps: deps as [string, string][] });

describe('dependency lists', () => {
  const store = '/a/agent/auth-profiles.json';
  const shared = '/main/agent/auth-profiles.json';
  const deps: DepList = [
    [store, '1:2:3:4:5'],
    [shared, '6:7:8:9:10'],
  ];

  it('finds a fingerprint by its path, and none for a path not followed', () => {
    expect(fingerprintIn(deps, shared)).toBe('6:7:8:9:10');
    expect(fingerprintIn(deps, store)).toBe('1:2:3:4:5');
    expect(fingerprintIn(deps, '/elsewhere')).toBeUndefined();
    expect(fingerprintIn(NO_DEPS, store)).toBeUndefined();
  });

  it('replaces a fingerprint in a new list, leaving the one it was given (and a list that does not follow the path) as it was', () => {
    const next = withFingerprint(deps, shared, 'missing');
    expect(next).not.toBe(deps);
    expect(next).toEqual([
      [store, '1:2:3:4:5'],
      [shared, 'missing'],
    ]);
    expect(deps[1]).toEqual([shared, '6:7:8:9:10']);
    expect(withFingerprint(deps, '/elsewhere', 'missing')).toBe(deps);
  });

  it('lets a run decide a changed cell only when it read every file as the cell last saw it, in whatever order', () => {
    const cell = new Cell({}, 0, 'authProfiles');
    cell.apply(outcome(deps), Date.now(), life);
    expect(cell.deps).toBe(deps);
    const began = cell.gen;
    cell.changed();
    // The same files, read in another order, as they were: it may decide.
    expect(cell.current(outcome([deps[1] as [string, string], deps[0] as [string, string]]), began)).toBe(true);
    expect(cell.current(outcome(deps.map(([p, f]) => [p, f] as const)), began)).toBe(true);
    // One file read otherwise, one file fewer, or another file: it may not.
    expect(
      cell.current(
        outcome([
          [store, '1:2:3:4:5'],
          [shared, '6:7:8:9:11'],
        ]),
        began,
      ),
    ).toBe(false);
    expect(cell.current(outcome([[store, '1:2:3:4:5']]), began)).toBe(false);
    expect(
      cell.current(
        outcome([
          [store, '1:2:3:4:5'],
          ['/other', '6:7:8:9:10'],
        ]),
        began,
      ),
    ).toBe(false);
    // Nothing changed since the run began: it decides, whatever it read.
    expect(cell.current(outcome([]), cell.gen)).toBe(true);
  });

  it('holds what it was told of after a change, in a new list, and only for a path it follows', () => {
    const cell = new Cell({}, 0, 'authProfiles');
    cell.apply(outcome(deps), Date.now(), life);
    cell.observe('/elsewhere', 'missing');
    expect(cell.deps).toBe(deps);
    cell.observe(store, '2:2:3:4:5');
    expect(cell.deps).not.toBe(deps);
    expect(fingerprintIn(cell.deps, store)).toBe('2:2:3:4:5');
    expect(fingerprintIn(deps, store)).toBe('1:2:3:4:5');
  });
});
