/**
 * The watcher's small sets (`answers/few.ts`): an array while few, a `Set` once many, the same members either way;
 * an array is never changed in place (the watcher may be iterating it), and a set left empty is gone.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { withItem, withoutItem } = (await import(dist('answers/few.js'))) as typeof import('../src/answers/few.js');
type Few<T> = import('../src/answers/few.js').Few<T>;

const members = <T>(few: Few<T> | undefined): T[] => (few === undefined ? [] : [...few]);

describe('Few', () => {
  it('is an array up to eight members and a Set past them, with every member once', () => {
    let few: Few<number> | undefined;
    for (let i = 1; i <= 8; i++) few = withItem(withItem(few, i), i);
    expect(Array.isArray(few)).toBe(true);
    expect(members(few)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    few = withItem(few, 9);
    expect(few).toBeInstanceOf(Set);
    expect(members(few).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('never changes an array in place, and is undefined once its last member goes', () => {
    const one = withItem(undefined, 'a');
    const two = withItem(one, 'b');
    expect(one).toEqual(['a']);
    const left = withoutItem(two, 'a');
    expect(two).toEqual(['a', 'b']);
    expect(left).toEqual(['b']);
    expect(withoutItem(left as Few<string>, 'not a member')).toBe(left);
    expect(withoutItem(left as Few<string>, 'b')).toBeUndefined();
  });

  it('empties a Set to undefined too', () => {
    let few: Few<number> | undefined;
    for (let i = 0; i < 9; i++) few = withItem(few, i);
    for (let i = 0; i < 9; i++) few = withoutItem(few as Few<number>, i);
    expect(few).toBeUndefined();
  });
});
