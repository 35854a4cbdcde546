/**
 * The main thread's own work, in slices: every piece of work the pool does on
 * the gateway's event loop in bulk (a check's miss, a `warm()` target, a
 * worker's result, a timer's transition, a file change) runs through one
 * queue per pool, which gives it at most SLICE_MS of a turn of the loop and
 * hands the rest to the next turn, in order. A burst (10,000 warm targets,
 * 5,000 checks of a thousand agents, a thousand results arriving at once)
 * then costs the gateway many short turns, with its timers and sockets served
 * between them, rather than one long one.
 *
 * Work runs at once, in the current turn, while that turn's slice has time
 * left and nothing waits before it (a check, a result, a timer: no extra
 * turn), or, as a `warm()`'s targets do, always in a later turn's slice. A
 * turn's slice begins with the first piece of work run in it and ends at the
 * next check phase of the loop (`setImmediate`); a turn never holds two.
 *
 * Work that feeds the worker threads (posting a batch's tasks) is urgent: it
 * runs before the work that waits, in its own order, so the threads start on
 * a burst's first runs while this thread still takes in the rest of it (a
 * thousand agents' checks: the first task went out 85 ms after the checks,
 * behind all 5,000 misses; now after the first batch's).
 */
import { performance } from 'node:perf_hooks';

/** Time the pool's work may take of one turn of the event loop, in milliseconds. */
export const SLICE_MS = 1;

/**
 * A piece of work as an object: queued as it is, with no closure of its own (a check's miss, see `Miss`: a thousand
 * agents' checks in one turn keep five thousand of them alive until their slice).
 */
export interface Work {
  run(): void;
}

type Item = (() => void) | Work;

/** Work waiting for a slice, in order, and how far it has been taken. */
class Lane {
  readonly items: Item[] = [];
  head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(work: Item): void {
    this.items.push(work);
  }

  take(): Item {
    const work = this.items[this.head] as Item;
    this.items[this.head++] = noop;
    return work;
  }

  /** Drops what has been taken: all of it once empty; else (a queue that never empties, bursts back to back) once it is most of it. */
  compact(): void {
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }
}

export class Slices {
  readonly #queue = new Lane();
  /** Urgent work (see the top): taken before the queue. */
  readonly #urgent = new Lane();
  /** When this turn's slice began (`performance.now()`), or -1 when no work has run in this turn. */
  #sliceStart = -1;
  #drainScheduled = false;
  /** Whether the current slice was begun by a drain (a check phase), not by work run at once in a poll phase. */
  #sliceOfDrain = false;
  readonly #budgetMs: number;
  /** Called with what a piece of work threw: work must not throw, and one that did must not stop the others. */
  readonly #onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void, budgetMs = SLICE_MS) {
    this.#onError = onError;
    this.#budgetMs = budgetMs;
  }

  /** Pieces of work waiting for a later turn. */
  get waiting(): number {
    return this.#queue.size + this.#urgent.size;
  }

  /** Runs `work` now if this turn's slice has time left and no earlier work waits; else in a later turn, in order. */
  run(work: Item, urgent = false): void {
    if ((urgent ? this.#urgent.size : this.waiting) === 0 && this.#within()) {
      this.#call(work);
      return;
    }
    this.#later(work, urgent);
  }

  /** {@link run}, for work with a result (or a promise of one). */
  submit<T>(work: () => T | PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.run(() => {
        try {
          resolve(work());
        } catch (err) {
          reject(err);
        }
      }),
    );
  }

  /**
   * Calls `each` on every item, in slices, in order; rejects with the first throw (the items after it are not
   * visited). `later`: none is visited in the caller's turn, which the call then returns to at once. `urgent`: before
   * the work that waits (see the top).
   */
  forEach<T>(items: readonly T[], each: (item: T, index: number) => void, { later = false, urgent = false } = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let i = 0;
      const step = (): void => {
        try {
          while (i < items.length) {
            each(items[i] as T, i);
            i++;
            if (i < items.length && !this.#within()) return this.#later(step, urgent);
          }
        } catch (err) {
          return reject(err);
        }
        resolve();
      };
      if (later) this.#later(step, urgent);
      else this.run(step, urgent);
    });
  }

  /** Queues `work` for a later turn's slice, whatever time this turn has left. */
  #later(work: Item, urgent = false): void {
    (urgent ? this.#urgent : this.#queue).push(work);
    this.#scheduleDrain();
  }

  #within(): boolean {
    const now = performance.now();
    if (this.#sliceStart < 0) {
      this.#sliceStart = now;
      this.#sliceOfDrain = false;
      // The slice ends with this turn: the check phase comes after the timers and I/O callbacks of the turn.
      this.#scheduleDrain();
    }
    return now - this.#sliceStart < this.#budgetMs;
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(() => this.#drain());
  }

  /**
   * The check phase of a turn. Work waiting gets a new slice, unless this turn's slice was already spent on work run
   * at once earlier in it (a result in its poll phase): then it waits for the next turn's check phase, so that one
   * turn never holds two slices. Once none waits, the slice still counts until the next check phase (work that
   * comes later in this turn shares it), which then ends it.
   */
  #drain(): void {
    this.#drainScheduled = false;
    if (this.waiting === 0) {
      this.#sliceStart = -1;
      this.#queue.compact();
      this.#urgent.compact();
      return;
    }
    if (this.#sliceStart >= 0 && !this.#sliceOfDrain) {
      this.#sliceStart = -1;
      this.#scheduleDrain();
      return;
    }
    this.#sliceStart = performance.now();
    this.#sliceOfDrain = true;
    while (this.waiting > 0) {
      if (performance.now() - this.#sliceStart >= this.#budgetMs) break;
      this.#call((this.#urgent.size > 0 ? this.#urgent : this.#queue).take());
    }
    this.#queue.compact();
    this.#urgent.compact();
    this.#scheduleDrain();
  }

  #call(work: Item): void {
    try {
      if (typeof work === 'function') work();
      else work.run();
    } catch (err) {
      this.#onError(err);
    }
  }
}

const noop = (): void => {};
