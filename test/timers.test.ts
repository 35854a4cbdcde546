/**
 * The pool's one timer for every answer's timed event (`answers/timers.ts`), with real Node timers: entries come in
 * time order, a cleared or replaced entry never comes, fired work that sets its item again at once waits for the next
 * timeout, dead entries do not pile up, and a stopped heap leaves nothing to fire.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// Internal: reached through the build, like the worker.
const dist = (file: string) => fileURLToPath(new URL(`../dist/src/${file}`, import.meta.url));
const { TimerHeap } = (await import(dist('answers/timers.js'))) as typeof import('../src/answers/timers.js');

interface Item {
  name: string;
  timer: number;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const item = (name: string): Item => ({ name, timer: 0 });

describe('TimerHeap', () => {
  const heaps: { stop(): void }[] = [];
  afterEach(() => {
    for (const h of heaps.splice(0)) h.stop();
  });
  const heap = (fire: (item: Item, id: number) => void) => {
    const h = new TimerHeap<Item>(fire);
    heaps.push(h);
    return h;
  };

  it('fires each live entry once, in the order of their times, whatever the order they were set in', async () => {
    const fired: string[] = [];
    const h = heap((i) => fired.push(i.name));
    const items = ['e', 'b', 'd', 'a', 'c'].map(item);
    const times: Record<string, number> = { a: 5, b: 15, c: 25, d: 35, e: 45 };
    for (const i of items) h.set(i, times[i.name] as number);
    // A timer the test set after all of them, for later than the last: it fires after every entry has.
    await wait(80);
    expect(fired).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(h.size).toBe(0);
  });

  it('never fires a cleared entry, nor the entry an item had before it was set again', async () => {
    const fired: string[] = [];
    const h = heap((i, id) => {
      expect(i.timer, 'the id of the entry that came').toBe(id);
      fired.push(i.name);
    });
    const [a, b, c] = ['a', 'b', 'c'].map(item) as [Item, Item, Item];
    h.set(a, 5);
    h.set(b, 5);
    h.set(c, 5);
    h.clear(b);
    // c moves after a timer the test sets for later: it must not come at its first time.
    h.set(c, 60);
    const marks: string[] = [];
    setTimeout(() => marks.push(`at 30: ${fired.join(',')}`), 30);
    await wait(100);
    expect(marks).toEqual(['at 30: a']);
    expect(fired).toEqual(['a', 'c']);
    expect(b.timer).toBe(0);
  });

  it('lets fired work set its item again at once without firing it again in the same timeout', async () => {
    // The loop's turns, counted in its check phase: each fire notes the turn it came in.
    let turns = 0;
    let immediate: NodeJS.Immediate | undefined;
    const spin = () => {
      turns++;
      immediate = setImmediate(spin);
    };
    spin();
    const firedIn: number[] = [];
    const h = heap((i) => {
      firedIn.push(turns);
      if (firedIn.length < 5) h.set(i, 0);
    });
    h.set(item('a'), 0);
    try {
      await wait(60);
    } finally {
      clearImmediate(immediate);
    }
    expect(firedIn).toHaveLength(5);
    expect(new Set(firedIn).size, `each fire in a turn of its own: ${firedIn.join(',')}`).toBe(5);
  });

  it('keeps the heap near the live entries when items are set again and again (dead entries compacted)', () => {
    const h = heap(() => {});
    const items = Array.from({ length: 100 }, (_, n) => item(`i${n}`));
    for (let round = 0; round < 200; round++) for (const i of items) h.set(i, 60_000 + round);
    // 20,000 entries were set; 100 are live.
    expect(h.size).toBeLessThan(2 * 100 + 1024 + 1);
    for (const i of items) h.clear(i);
    h.compact();
    expect(h.size).toBe(0);
  });

  it('fires nothing once stopped, and holds no item', async () => {
    const fired: string[] = [];
    const h = heap((i) => fired.push(i.name));
    h.set(item('a'), 5);
    h.set(item('b'), 10);
    h.stop();
    expect(h.size).toBe(0);
    await wait(40);
    expect(fired).toEqual([]);
  });
});
