/**
 * One Node timer for all of a pool's answers: each answer's next timed event
 * (a due time, an expiry, a hold's retry, a stale answer's drop, a check's
 * deadline) is an entry of a min-heap by monotonic time, and a single
 * `setTimeout` waits for the earliest.
 *
 * Ten thousand answers kept with a timer each cost the gateway's heap a
 * `Timeout`, its closure and their context apiece (about 260 bytes), all of
 * which a young-generation collection copies while a warm makes them: the
 * loop's longest stalls in a large `warm()`. Here an entry is three slots of
 * three arrays, and no object.
 *
 * An item names its pending entry by `timer` (0: none). Setting a new one or
 * clearing it leaves the old entry in the heap, dead: it is skipped when it
 * comes up, and the heap is compacted when dead entries outgrow the live.
 */
import { performance } from 'node:perf_hooks';

/** What the heap times: its pending entry's id, 0 when none. */
export interface Timed {
  timer: number;
}

/** Longest wait `setTimeout` takes (about 24.8 days); a later entry is looked at again then. */
const MAX_WAIT_MS = 2 ** 31 - 1;
/** Dead entries tolerated beyond the live ones before a compaction. */
const SLACK = 1024;

export class TimerHeap<T extends Timed> {
  /** The heap, as three parallel arrays: an entry's monotonic due time, its id, its item. */
  readonly #at: number[] = [];
  readonly #id: number[] = [];
  readonly #item: T[] = [];
  #nextId = 0;
  /** Entries after the last compaction: the next one comes when the heap has grown past twice that, plus SLACK. */
  #compacted = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The monotonic time the Node timer is set for; Infinity when none is. */
  #armedAt = Infinity;
  readonly #fire: (item: T, id: number) => void;

  /**
   * `fire` gets each item whose time has come, with the id of the entry that came. The item's `timer` is left as it is:
   * work that waits (for a slice of the loop) compares it with the id, and skips an entry set again or cleared meanwhile.
   */
  constructor(fire: (item: T, id: number) => void) {
    this.#fire = fire;
  }

  /** Entries in the heap, dead ones included. */
  get size(): number {
    return this.#at.length;
  }

  /** Times `item` `waitMs` from now, replacing its pending entry. */
  set(item: T, waitMs: number): void {
    const id = ++this.#nextId;
    item.timer = id;
    const at = performance.now() + Math.max(0, waitMs);
    this.#push(at, id, item);
    if (this.#at.length > 2 * this.#compacted + SLACK) this.compact();
    if (at < this.#armedAt) this.#arm();
  }

  /** Cancels `item`'s pending entry. */
  clear(item: T): void {
    item.timer = 0;
  }

  /** Drops the dead entries (an item cleared or set again), so that they hold no item. */
  compact(): void {
    let n = 0;
    for (let i = 0; i < this.#at.length; i++) if (this.#live(i)) this.#move(i, n++);
    this.#at.length = this.#id.length = this.#item.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#down(i);
    this.#compacted = n;
    if (n === 0) this.#disarm();
  }

  /** Drops every entry and the Node timer: nothing fires any more. */
  stop(): void {
    this.#at.length = this.#id.length = this.#item.length = 0;
    this.#compacted = 0;
    this.#disarm();
  }

  #onTimeout(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    // Node may fire a timer up to a millisecond before performance.now() reaches its time: what comes within it is due.
    const now = performance.now() + 1;
    // Taken out before any fires: an entry set by fired work (again at once, say) waits for the next timeout.
    const items: T[] = [];
    const ids: number[] = [];
    while (this.#at.length > 0) {
      const live = this.#live(0);
      if (live && (this.#at[0] as number) > now) break;
      if (live) {
        items.push(this.#item[0] as T);
        ids.push(this.#id[0] as number);
      }
      this.#pop();
    }
    this.#arm();
    for (let i = 0; i < items.length; i++) this.#fire(items[i] as T, ids[i] as number);
  }

  #arm(): void {
    // A dead entry on top would only wake the loop for nothing.
    while (this.#at.length > 0 && !this.#live(0)) this.#pop();
    if (this.#at.length === 0) return this.#disarm();
    const at = this.#at[0] as number;
    if (at >= this.#armedAt) return;
    clearTimeout(this.#timer);
    this.#armedAt = at;
    const wait = Math.min(Math.max(0, Math.ceil(at - performance.now())), MAX_WAIT_MS);
    this.#timer = setTimeout(() => this.#onTimeout(), wait).unref();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #push(at: number, id: number, item: T): void {
    let i = this.#at.length;
    this.#at.push(at);
    this.#id.push(id);
    this.#item.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.#at[parent] as number) <= at) break;
      this.#move(parent, i);
      i = parent;
    }
    this.#at[i] = at;
    this.#id[i] = id;
    this.#item[i] = item;
  }

  /** Whether the entry at `i` is its item's pending one (not cleared or set again since). */
  #live(i: number): boolean {
    return this.#item[i]?.timer === this.#id[i];
  }

  #pop(): void {
    const last = this.#at.length - 1;
    this.#move(last, 0);
    this.#at.length = this.#id.length = this.#item.length = last;
    if (last > 0) this.#down(0);
  }

  /** Sifts the entry at `i` down to its place. */
  #down(i: number): void {
    const n = this.#at.length;
    const at = this.#at[i] as number;
    const id = this.#id[i] as number;
    const item = this.#item[i] as T;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && (this.#at[child + 1] as number) < (this.#at[child] as number)) child++;
      if ((this.#at[child] as number) >= at) break;
      this.#move(child, i);
      i = child;
    }
    this.#at[i] = at;
    this.#id[i] = id;
    this.#item[i] = item;
  }

  #move(from: number, to: number): void {
    this.#at[to] = this.#at[from] as number;
    this.#id[to] = this.#id[from] as number;
    this.#item[to] = this.#item[from] as T;
  }
}
